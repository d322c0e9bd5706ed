// SPDX-License-Identifier: MIT
/*
 * PCI functions in sysfs: enumeration, binding to vfio-pci with
 * driver_override + drivers_probe, and giving them back.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pcid.h"

static int read_text(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return 0;
}

static long read_hex(const char *dir, const char *file, long dflt)
{
	char path[2600], buf[64], *end;
	long v;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	if (read_text(path, buf, sizeof(buf)))
		return dflt;
	errno = 0;
	v = strtol(buf, &end, 16);
	return errno || end == buf ? dflt : v;
}

static int write_text(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	size_t len = strlen(text);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, text, len);
	if (n < 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	close(fd);
	return (size_t)n == len ? 0 : -EIO;
}

static void link_base(const char *path, char *out, size_t size)
{
	char buf[PATH_MAX];
	ssize_t n = readlink(path, buf, sizeof(buf) - 1);
	const char *b;

	out[0] = '\0';
	if (n <= 0)
		return;
	buf[n] = '\0';
	b = strrchr(buf, '/');
	snprintf(out, size, "%s", b ? b + 1 : buf);
}

static int cmp_fn(const void *a, const void *b)
{
	const struct pci_fn *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static void fn_init(struct pci_fn *f)
{
	int i;

	memset(f, 0, sizeof(*f));
	f->iommu_group = -1;
	f->device_fd = -1;
	f->sysfs_cfg_fd = -1;
	f->irq_type = -1;
	for (i = 0; i < PCID_MAX_VECTORS; i++)
		f->efd[i] = f->latch[i] = -1;
}

int fns_enumerate(const char *sysfs_root, struct pci_fn **out, size_t *nout)
{
	char dir[2048];
	struct pci_fn *v = NULL;
	size_t n = 0;
	struct dirent *d;
	DIR *dp;

	snprintf(dir, sizeof(dir), "%s/bus/pci/devices", sysfs_root);
	dp = opendir(dir);
	if (!dp)
		return -errno;
	while ((d = readdir(dp))) {
		char fdir[2400], path[2500], grp[32];
		uint8_t hdr[64];
		struct pci_fn *nv, *f;
		struct stat st;
		uint32_t addr;
		long cls;
		int fd;

		if (rxu_pci_addr_parse(d->d_name, strlen(d->d_name), &addr))
			continue;
		nv = realloc(v, (n + 1) * sizeof(*v));
		if (!nv) {
			closedir(dp);
			free(v);
			return -ENOMEM;
		}
		v = nv;
		f = &v[n++];
		fn_init(f);
		f->addr = addr;
		rxu_pci_addr_format(addr, f->name);
		snprintf(fdir, sizeof(fdir), "%s/%s", dir, d->d_name);
		f->id.vendor = (uint16_t)read_hex(fdir, "vendor", 0xffff);
		f->id.device = (uint16_t)read_hex(fdir, "device", 0xffff);
		f->id.subsystem_vendor =
			(uint16_t)read_hex(fdir, "subsystem_vendor", 0);
		f->id.subsystem_device =
			(uint16_t)read_hex(fdir, "subsystem_device", 0);
		cls = read_hex(fdir, "class", 0);
		f->id.class_code = (uint8_t)(cls >> 16);
		f->id.subclass = (uint8_t)(cls >> 8);
		f->id.prog_if = (uint8_t)cls;
		f->id.revision = (uint8_t)read_hex(fdir, "revision", 0);
		f->boot_vga = (int)read_hex(fdir, "boot_vga", 0);
		f->config_size = 256;
		snprintf(path, sizeof(path), "%s/config", fdir);
		if (!stat(path, &st) && st.st_size >= 4096)
			f->config_size = 4096;
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			if (pread(fd, hdr, sizeof(hdr), 0) == sizeof(hdr)) {
				f->header_type = hdr[0x0e] & 0x7f;
				f->irq_pin = hdr[0x3d];
			}
			close(fd);
		}
		snprintf(path, sizeof(path), "%s/iommu_group", fdir);
		link_base(path, grp, sizeof(grp));
		if (grp[0])
			f->iommu_group = atoi(grp);
	}
	closedir(dp);
	if (n)
		qsort(v, n, sizeof(*v), cmp_fn);
	*out = v;
	*nout = n;
	return 0;
}

void fn_kernel_driver(const char *sysfs_root, const struct pci_fn *f,
		      char *buf, size_t size)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/driver",
		 sysfs_root, f->name);
	link_base(path, buf, size);
}

const char *fn_unsafe_reason(const struct pci_fn *f)
{
	if (f->id.class_code == 0x06)
		return "a bridge (class 0x06)";
	if (f->boot_vga)
		return "the boot VGA device";
	if (f->header_type != 0)
		return "not an endpoint (header type != 0)";
	return NULL;
}

int fn_bind_vfio(const char *sysfs_root, struct pci_fn *f)
{
	char path[PATH_MAX], cur[64];
	int ret;

	fn_kernel_driver(sysfs_root, f, cur, sizeof(cur));
	if (!strcmp(cur, "vfio-pci"))
		return 0;			/* someone else bound it: keep */
	snprintf(path, sizeof(path), "%s/bus/pci/drivers/vfio-pci",
		 sysfs_root);
	if (access(path, F_OK))
		return -ENXIO;			/* vfio-pci is not loaded */

	snprintf(f->orig_driver, sizeof(f->orig_driver), "%s", cur);
	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/driver_override",
		 sysfs_root, f->name);
	ret = write_text(path, "vfio-pci");
	if (ret)
		return ret;
	f->we_bound = 1;
	if (cur[0]) {
		snprintf(path, sizeof(path),
			 "%s/bus/pci/devices/%s/driver/unbind", sysfs_root,
			 f->name);
		ret = write_text(path, f->name);
		if (ret) {
			fn_restore(sysfs_root, f);
			return ret;
		}
	}
	snprintf(path, sizeof(path), "%s/bus/pci/drivers_probe", sysfs_root);
	ret = write_text(path, f->name);
	fn_kernel_driver(sysfs_root, f, cur, sizeof(cur));
	if (strcmp(cur, "vfio-pci")) {
		fn_restore(sysfs_root, f);
		return ret ? ret : -ENODEV;
	}
	return 0;
}

int fn_restore_name(const char *sysfs_root, const char *name,
		    const char *orig)
{
	char path[PATH_MAX], cur[64];
	int ret;

	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/driver_override",
		 sysfs_root, name);
	ret = write_text(path, "\n");
	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/driver",
		 sysfs_root, name);
	link_base(path, cur, sizeof(cur));
	if (!strcmp(cur, "vfio-pci")) {
		snprintf(path, sizeof(path),
			 "%s/bus/pci/drivers/vfio-pci/unbind", sysfs_root);
		if (!ret)
			ret = write_text(path, name);
	}
	if (orig && orig[0]) {
		snprintf(path, sizeof(path), "%s/bus/pci/drivers/%s/bind",
			 sysfs_root, orig);
		if (write_text(path, name)) {
			/* the driver may want a probe of its own */
			snprintf(path, sizeof(path),
				 "%s/bus/pci/drivers_probe", sysfs_root);
			write_text(path, name);
		}
		snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/driver",
			 sysfs_root, name);
		link_base(path, cur, sizeof(cur));
		if (strcmp(cur, orig) && !ret)
			ret = -EIO;
	}
	return ret;
}

int fn_restore(const char *sysfs_root, struct pci_fn *f)
{
	int ret;

	if (!f->we_bound)
		return 0;
	ret = fn_restore_name(sysfs_root, f->name, f->orig_driver);
	f->we_bound = 0;
	return ret;
}

ssize_t fn_sysfs_config_read(struct pci_fn *f, const char *sysfs_root,
			     void *buf, size_t len, uint64_t off)
{
	ssize_t n;

	if (f->sysfs_cfg_fd < 0) {
		char path[PATH_MAX];

		snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/config",
			 sysfs_root, f->name);
		f->sysfs_cfg_fd = open(path, O_RDONLY | O_CLOEXEC);
		if (f->sysfs_cfg_fd < 0)
			return -errno;
	}
	if (off >= f->config_size)
		return 0;
	if (len > f->config_size - off)
		len = (size_t)(f->config_size - off);
	n = pread(f->sysfs_cfg_fd, buf, len, (off_t)off);
	return n < 0 ? -errno : n;
}

void fn_sysfs_bars(const char *sysfs_root, struct pci_fn *f)
{
	char path[PATH_MAX], line[128];
	FILE *fp;
	int i;

	for (i = 0; i <= RXU_PCI_NR_BARS; i++) {
		memset(&f->bars[i], 0, sizeof(f->bars[i]));
		f->bars[i].index = (uint32_t)i;
	}
	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/resource",
		 sysfs_root, f->name);
	fp = fopen(path, "re");
	if (!fp)
		return;
	for (i = 0; i <= RXU_PCI_NR_BARS && fgets(line, sizeof(line), fp);
	     i++) {
		unsigned long long start, end, flags;
		struct rxu_pci_bar *b = &f->bars[i];

		if (sscanf(line, "%llx %llx %llx", &start, &end, &flags) != 3)
			continue;
		/* IORESOURCE_IO 0x100, _MEM 0x200, _PREFETCH 0x2000,
		 * _MEM_64 0x100000 */
		if (end > start || (flags & 0x300)) {
			if (end >= start && (start || end))
				b->size = end - start + 1;
			b->phys = start;
			if (flags & 0x100)
				b->flags |= RXU_PCI_BAR_IO;
			if (flags & 0x200)
				b->flags |= RXU_PCI_BAR_MEM;
			if (flags & 0x2000)
				b->flags |= RXU_PCI_BAR_PREFETCH;
			if (flags & 0x100000)
				b->flags |= RXU_PCI_BAR_64BIT;
		}
		if (!b->size)
			b->flags = 0;
	}
	fclose(fp);
	for (i = 0; i < RXU_PCI_NR_BARS - 1; i++)
		if ((f->bars[i].flags & RXU_PCI_BAR_64BIT) && !f->bars[i + 1].size)
			f->bars[i + 1].flags = RXU_PCI_BAR_UPPER;
}
