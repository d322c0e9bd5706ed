/* SPDX-License-Identifier: GPL-2.0 */
#ifndef RXU_PROCFS_H
#define RXU_PROCFS_H

int rxu_procfs_init(void);
void rxu_procfs_exit(void);

#endif /* RXU_PROCFS_H */
