// SPDX-License-Identifier: GPL-2.0
/*
 * redox_uring: the io_uring of Redox OS (2020) as a Linux module.
 *
 * The device /dev/redox_uring hands out instances: open() makes one,
 * write() of a struct rxu_create_info gives it rings, mmap() at the
 * RXU_OFF_* offsets maps them, RXU_IOC_ATTACH attaches it to the kernel
 * and RXU_IOC_ENTER runs what was pushed.  The ABI is in
 * uapi/linux/redox_uring.h and spec/ABI.md.
 */
#include <linux/kernel.h>
#include <linux/log2.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <uapi/linux/redox_uring.h>

#include "instance.h"
#include "opdef.h"
#include "procfs.h"

#define RXU_MAX_ENTRIES_LIMIT	BIT(20)

unsigned int rxu_max_entries = 32768;
unsigned int rxu_max_instances_per_user = 1024;
bool rxu_enabled = true;

/* max_entries must stay a power of two the rings can be sized with. */
static int rxu_set_max_entries(const char *val, const struct kernel_param *kp)
{
	unsigned int n;
	int ret;

	ret = kstrtouint(val, 0, &n);
	if (ret)
		return ret;
	if (!n || n > RXU_MAX_ENTRIES_LIMIT || !is_power_of_2(n))
		return -EINVAL;
	WRITE_ONCE(*(unsigned int *)kp->arg, n);
	return 0;
}

static const struct kernel_param_ops rxu_max_entries_ops = {
	.set	= rxu_set_max_entries,
	.get	= param_get_uint,
};

module_param_cb(max_entries, &rxu_max_entries_ops, &rxu_max_entries, 0644);
MODULE_PARM_DESC(max_entries,
		 "Largest SQ or CQ entry count a create info may ask for (power of two, default 32768, at most 1048576)");
module_param_named(max_instances_per_user, rxu_max_instances_per_user, uint,
		   0644);
MODULE_PARM_DESC(max_instances_per_user,
		 "Instances one user may have at once, beyond which creating one fails with EMFILE (CAP_SYS_RESOURCE exempt; 0: no limit; default 1024)");
module_param_named(enabled, rxu_enabled, bool, 0644);
MODULE_PARM_DESC(enabled,
		 "Allow new instances (open of the device or of io_uring:); existing ones keep working (default Y)");

static struct miscdevice rxu_misc = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= RXU_DEVICE_NAME,
	.fops	= &rxu_instance_fops,
	.mode	= 0600,	/* widen with a udev rule, see README */
};

static int __init rxu_init(void)
{
	int ret;

	ret = rxu_opdef_init();
	if (ret)
		return ret;
	ret = rxu_procfs_init();
	if (ret)
		return ret;
	ret = misc_register(&rxu_misc);
	if (ret) {
		pr_err("cannot register /dev/%s: %d\n", RXU_DEVICE_NAME, ret);
		goto err_remove_procfs;
	}
	return 0;

err_remove_procfs:
	rxu_procfs_exit();
	return ret;
}

static void __exit rxu_exit(void)
{
	misc_deregister(&rxu_misc);
	rxu_procfs_exit();
}

module_init(rxu_init);
module_exit(rxu_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Redox OS io_uring rings (SQ/CQ in shared memory, schemes)");
MODULE_AUTHOR("redox_uring developers");
MODULE_VERSION("1.0.0");
