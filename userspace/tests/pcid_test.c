// SPDX-License-Identifier: MIT
/*
 * pcid's host-testable parts: the INI rules (through libinih) and the
 * matcher, argv expansion, PCI addresses, the capability walk, the
 * config-write filter, and sysfs enumeration against a fake tree.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pcid.h"
#include "tap.h"

static const struct pci_ident edu = {
	.vendor = 0x1234, .device = 0x11e8, .class_code = 0x00,
	.subclass = 0xff, .prog_if = 0x00, .revision = 0x10,
};
static const struct pci_ident xhci = {
	.vendor = 0x1b36, .device = 0x000d, .class_code = 0x0c,
	.subclass = 0x03, .prog_if = 0x30, .revision = 0x01,
};

static int test_parse_and_match(void)
{
	static const char text[] =
		"; comment\n"
		"[edu]\n"
		"vendor = 0x1234\n"
		"device = 0x11e8\n"
		"command = edud $ADDR --rule=$RULE\n"
		"restart = 5\n"
		"\n"
		"[usb3]\n"
		"class = 0x0c\n"
		"subclass = 3\n"
		"interface = 0x30\n"
		"command = xhcid $ADDR\n"
		"\n"
		"[anything]\n"
		"command = catchall\n"
		"enabled = no\n";
	struct rules rs = { 0 };
	const struct rule *r;
	const char *err;

	CHECK_EQ(rules_parse_string(&rs, text, "t.conf", &err), 0);
	CHECK_EQ(rs.n, 3);
	r = rules_match(&rs, &edu);
	CHECK(r && !strcmp(r->name, "edu"));
	CHECK_EQ(r->max_restarts, 5);
	CHECK_EQ(r->argc, 3);
	CHECK(!strcmp(r->argv[0], "edud"));
	r = rules_match(&rs, &xhci);
	CHECK(r && !strcmp(r->name, "usb3"));
	CHECK_EQ(r->max_restarts, 3);			/* the default */
	{
		struct pci_ident other = xhci;

		other.prog_if = 0x20;			/* EHCI: no match */
		CHECK(rules_match(&rs, &other) == NULL);	/* disabled rule */
	}
	rules_free(&rs);
	return 0;
}

static int test_first_match_wins(void)
{
	static const char text[] =
		"[a]\nvendor = 0x1234\ncommand = one\n"
		"[b]\nvendor = 0x1234\ndevice = 0x11e8\ncommand = two\n";
	struct rules rs = { 0 };
	const char *err;

	CHECK_EQ(rules_parse_string(&rs, text, "t", &err), 0);
	CHECK(!strcmp(rules_match(&rs, &edu)->name, "a"));
	rules_free(&rs);
	return 0;
}

static int expect_error(const char *text, const char *needle)
{
	struct rules rs = { 0 };
	const char *err = NULL;
	int ret = rules_parse_string(&rs, text, "bad.conf", &err);

	tap_context("config %s", text);
	rules_free(&rs);
	CHECK(ret < 0);
	CHECK(err != NULL);
	if (!strstr(err, needle)) {
		printf("#   error was: %s\n", err);
		return 1;
	}
	return 0;
}

static int test_errors(void)
{
	TRY(expect_error("[x]\nvendor = 0x12345\ncommand = a\n", "bad.conf:2"));
	TRY(expect_error("[x]\nvendor = pink\ncommand = a\n", "bad value"));
	TRY(expect_error("[x]\nflavour = 1\n", "unknown key"));
	TRY(expect_error("vendor = 1\n", "outside"));
	TRY(expect_error("[x]\nvendor = 1\n", "no command"));
	TRY(expect_error("[x]\ncommand = a\ncommand = b\n", "twice"));
	TRY(expect_error("[x]\ncommand = a\n[y]\ncommand = b\n[x]\n"
			 "vendor = 1\n", "defined twice"));
	TRY(expect_error("[bad name]\ncommand = a\n", "bad rule name"));
	TRY(expect_error("[x]\ncommand = a\nforce = maybe\n", "bad value"));
	TRY(expect_error("[x\ncommand = a\n", "bad.conf:1"));
	TRY(expect_error("[x]\nclass = 256\ncommand = a\n", "bad value"));
	return 0;
}

static int test_expand(void)
{
	static const char text[] =
		"[edu]\ncommand = /x/edud $ADDR id=$VENDOR:$DEVICE $SCHEME $$\n";
	struct rules rs = { 0 };
	const char *err;
	char **argv;

	CHECK_EQ(rules_parse_string(&rs, text, "t", &err), 0);
	argv = rule_expand_argv(&rs.v[0], "0000:00:04.0", &edu, "pcitest");
	CHECK(argv != NULL);
	CHECK(!strcmp(argv[0], "/x/edud"));
	CHECK(!strcmp(argv[1], "0000:00:04.0"));
	CHECK(!strcmp(argv[2], "id=1234:11e8"));
	CHECK(!strcmp(argv[3], "pcitest"));
	CHECK(!strcmp(argv[4], "$$"));
	CHECK(argv[5] == NULL);
	argv_free(argv);
	rules_free(&rs);
	return 0;
}

static int test_load_dir(void)
{
	char dir[] = "/tmp/pcid_test.XXXXXX", path[128];
	struct rules rs = { 0 };
	const char *err;
	FILE *fp;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/20-b.conf", dir);
	fp = fopen(path, "w");
	CHECK(fp != NULL);
	fputs("[b]\nvendor = 0x1234\ncommand = b\n", fp);
	fclose(fp);
	snprintf(path, sizeof(path), "%s/10-a.conf", dir);
	fp = fopen(path, "w");
	CHECK(fp != NULL);
	fputs("[a]\ndevice = 0x11e8\ncommand = a\n", fp);
	fclose(fp);
	snprintf(path, sizeof(path), "%s/ignored.txt", dir);
	fp = fopen(path, "w");
	CHECK(fp != NULL);
	fputs("this is not INI\n", fp);
	fclose(fp);

	CHECK_EQ(rules_load_dir(&rs, dir, &err), 0);
	CHECK_EQ(rs.n, 2);
	CHECK(!strcmp(rs.v[0].name, "a"));		/* name order */
	CHECK(!strcmp(rules_match(&rs, &edu)->name, "a"));
	rules_free(&rs);

	snprintf(path, sizeof(path), "%s/30-c.conf", dir);
	fp = fopen(path, "w");
	CHECK(fp != NULL);
	fputs("[c]\nvendor = x\n", fp);
	fclose(fp);
	CHECK(rules_load_dir(&rs, dir, &err) < 0);
	CHECK(err && strstr(err, "30-c.conf:2"));
	rules_free(&rs);
	unlink(path);
	snprintf(path, sizeof(path), "%s/10-a.conf", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/20-b.conf", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/ignored.txt", dir);
	unlink(path);
	rmdir(dir);
	CHECK(rules_load_dir(&rs, dir, &err) == -ENOENT);
	return 0;
}

static int test_addr(void)
{
	char buf[RXU_PCI_ADDR_STRLEN + 1];
	uint32_t a;

	CHECK_EQ(rxu_pci_addr_parse("0000:00:03.0", 12, &a), 0);
	CHECK_EQ(a, RXU_PCI_ADDR(0, 0, 3, 0));
	CHECK_EQ(rxu_pci_addr_parse("abcd:fe:1f.7", 12, &a), 0);
	CHECK_EQ(RXU_PCI_ADDR_SEG(a), 0xabcd);
	CHECK_EQ(RXU_PCI_ADDR_BUS(a), 0xfe);
	CHECK_EQ(RXU_PCI_ADDR_DEV(a), 0x1f);
	CHECK_EQ(RXU_PCI_ADDR_FN(a), 7);
	rxu_pci_addr_format(a, buf);
	CHECK(!strcmp(buf, "abcd:fe:1f.7"));
	CHECK_EQ(rxu_pci_addr_parse("00:04.0", 7, &a), 0);
	CHECK_EQ(a, RXU_PCI_ADDR(0, 0, 4, 0));
	CHECK(rxu_pci_addr_parse("0000:00:20.0", 12, &a) < 0);	/* dev > 31 */
	CHECK(rxu_pci_addr_parse("0000:00:03.8", 12, &a) < 0);
	CHECK(rxu_pci_addr_parse("0000-00:03.0", 12, &a) < 0);
	CHECK(rxu_pci_addr_parse("0000:00:03.0x", 13, &a) < 0);
	CHECK(rxu_pci_addr_parse("0000:0g:03.0", 12, &a) < 0);
	return 0;
}

/* A config space with PM at 0x40, MSI (64-bit, masking) at 0x50, MSI-X at
 * 0x70, vendor at 0x80, and two extended capabilities. */
static void make_cfg(uint8_t *c)
{
	memset(c, 0, 4096);
	c[0] = 0x34; c[1] = 0x12; c[2] = 0xe8; c[3] = 0x11;
	c[4] = 0x06;				/* memory + bus master */
	c[6] = 0x10;				/* capability list */
	c[0x34] = 0x40;
	c[0x40] = 0x01; c[0x41] = 0x50;		/* PM */
	c[0x50] = 0x05; c[0x51] = 0x70;		/* MSI */
	c[0x52] = 0x80; c[0x53] = 0x01;		/* 64-bit, per-vector mask */
	c[0x70] = 0x11; c[0x71] = 0x80;		/* MSI-X */
	c[0x72] = 0x0f;				/* 16 vectors */
	c[0x74] = 0x00; c[0x75] = 0x30;		/* table BAR0 + 0x3000 */
	c[0x78] = 0x00; c[0x79] = 0x38;
	c[0x80] = 0x09; c[0x81] = 0x00; c[0x82] = 0x08;	/* vendor, 8 bytes */
	/* extended: AER (1) v1 at 0x100 -> 0x148; DSN (3) v1 at 0x148 */
	c[0x100] = 0x01; c[0x101] = 0x00; c[0x102] = 0x81; c[0x103] = 0x14;
	c[0x148] = 0x03; c[0x149] = 0x00; c[0x14a] = 0x01; c[0x14b] = 0x00;
}

static int test_caps(void)
{
	static uint8_t c[4096];
	struct cap_list caps;

	make_cfg(c);
	caps_walk(c, 4096, &caps);
	CHECK_EQ(caps.n, 6);
	CHECK_EQ(caps.rec[0].id, 0x01);
	CHECK_EQ(caps.rec[0].length, 8);
	CHECK_EQ(caps.rec[1].id, 0x05);
	CHECK_EQ(caps.rec[1].offset, 0x50);
	CHECK_EQ(caps.rec[1].length, 24);
	CHECK_EQ(caps.rec[2].id, 0x11);
	CHECK_EQ(caps.rec[2].length, 12);
	CHECK_EQ(caps.rec[3].id, 0x09);
	CHECK_EQ(caps.rec[3].length, 8);
	CHECK_EQ(caps.rec[4].extended, 1);
	CHECK_EQ(caps.rec[4].id, 1);
	CHECK_EQ(caps.rec[4].version, 1);
	CHECK_EQ(caps.rec[4].length, 0x48);
	CHECK_EQ(caps.rec[5].id, 3);
	CHECK_EQ(caps.rec[5].offset, 0x148);

	/* 256-byte config space: no extended list */
	caps_walk(c, 256, &caps);
	CHECK_EQ(caps.n, 4);
	/* a loop in the list ends the walk */
	c[0x81] = 0x40;
	caps_walk(c, 256, &caps);
	CHECK_EQ(caps.n, 4);
	/* no capability bit: nothing */
	c[6] = 0;
	caps_walk(c, 256, &caps);
	CHECK_EQ(caps.n, 0);
	return 0;
}

static int test_write_filter(void)
{
	static uint8_t c[4096];
	struct cap_list caps;
	uint8_t b[8];

	make_cfg(c);
	caps_walk(c, 4096, &caps);

	/* Command: bus master off and on, memory, INTx disable */
	b[0] = 0x02; b[1] = 0x00;
	CHECK_EQ(config_write_allowed(c, 4096, &caps, 4, b, 2), 0);
	b[0] = 0x07; b[1] = 0x04;
	CHECK_EQ(config_write_allowed(c, 4096, &caps, 4, b, 2), 0);
	/* Command bit 4 (memory write and invalidate) may not change */
	b[0] = 0x16;
	CHECK_EQ(config_write_allowed(c, 4096, &caps, 4, b, 1), -EPERM);
	/* Command + Status as one dword */
	memset(b, 0, 4);
	b[0] = 0x06; b[3] = 0xf9;
	CHECK_EQ(config_write_allowed(c, 4096, &caps, 4, b, 4), 0);
	/* ids, class, BARs, ROM, cap pointer: refused */
	CHECK_EQ(config_write_allowed(c, 4096, &caps, 0, b, 2), -EPERM);
	CHECK_EQ(config_write_allowed(c, 4096, &caps, 0x0c, b, 1), -EPERM);
	CHECK_EQ(config_write_allowed(c, 4096, &caps, 0x10, b, 4), -EPERM);
	CHECK_EQ(config_write_allowed(c, 4096, &caps, 0x24, b, 4), -EPERM);
	CHECK_EQ(config_write_allowed(c, 4096, &caps, 0x30, b, 4), -EPERM);
	CHECK_EQ(config_write_allowed(c, 4096, &caps, 0x34, b, 1), -EPERM);
	/* a write that spans an allowed and a refused byte: refused whole */
	CHECK_EQ(config_write_allowed(c, 4096, &caps, 0x3c, b, 2), -EPERM);
	CHECK_EQ(config_write_allowed(c, 4096, &caps, 0x3c, b, 1), 0);
	/* MSI and MSI-X: everything; PM body allowed, its header not */
	CHECK_EQ(config_write_allowed(c, 4096, &caps, 0x52, b, 2), -EPERM);
	CHECK_EQ(config_write_allowed(c, 4096, &caps, 0x60, b, 4), -EPERM);
	CHECK_EQ(config_write_allowed(c, 4096, &caps, 0x72, b, 2), -EPERM);
	CHECK_EQ(config_write_allowed(c, 4096, &caps, 0x44, b, 2), 0);
	CHECK_EQ(config_write_allowed(c, 4096, &caps, 0x40, b, 1), -EPERM);
	CHECK_EQ(config_write_allowed(c, 4096, &caps, 0x41, b, 1), -EPERM);
	/* device-specific space; extended header refused, body allowed */
	CHECK_EQ(config_write_allowed(c, 4096, &caps, 0xc0, b, 8), 0);
	CHECK_EQ(config_write_allowed(c, 4096, &caps, 0x102, b, 2), -EPERM);
	CHECK_EQ(config_write_allowed(c, 4096, &caps, 0x104, b, 4), 0);
	/* bounds */
	CHECK_EQ(config_write_allowed(c, 256, &caps, 0xfe, b, 4), -EINVAL);
	CHECK_EQ(config_write_allowed(c, 4096, &caps, 4096, b, 1), -EINVAL);
	CHECK_EQ(config_write_allowed(c, 4096, &caps, 0xc0, b, 0), -EINVAL);
	return 0;
}

static int put(const char dir[512], const char *file, const char *text)
{
	char path[1100];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fp = fopen(path, "w");
	if (!fp)
		return 1;
	fputs(text, fp);
	fclose(fp);
	return 0;
}

static int test_enumerate(void)
{
	char root[] = "/tmp/pcid_sysfs.XXXXXX", d[512], cmd[2200];
	static uint8_t c[4096];
	struct pci_fn *fns = NULL;
	size_t n = 0;
	FILE *fp;

	CHECK(mkdtemp(root) != NULL);
	/* two functions, out of order, plus junk */
	snprintf(d, sizeof(d), "%s/bus/pci/devices/0000:00:04.0", root);
	snprintf(cmd, sizeof(cmd), "mkdir -p %s %s/bus/pci/devices/0000:00:02.0 "
		 "%s/bus/pci/devices/junk %s/kernel/iommu_groups/7", d, root,
		 root, root);
	CHECK_EQ(system(cmd), 0);
	TRY(put(d, "vendor", "0x1234\n"));
	TRY(put(d, "device", "0x11e8\n"));
	TRY(put(d, "subsystem_vendor", "0x1af4\n"));
	TRY(put(d, "subsystem_device", "0x1100\n"));
	TRY(put(d, "class", "0x00ff00\n"));
	TRY(put(d, "revision", "0x10\n"));
	TRY(put(d, "resource",
		"0x00000000fea00000 0x00000000feafffff 0x0000000000040200\n"
		"0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
		"0x00000000fe000000 0x00000000fe003fff 0x000000000014220c\n"
		"0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
		"0x000000000000c000 0x000000000000c01f 0x0000000000040101\n"
		"0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
		"0x0000000000000000 0x0000000000000000 0x0000000000000000\n"));
	make_cfg(c);
	c[0x3d] = 1;
	snprintf(cmd, sizeof(cmd), "%s/config", d);
	fp = fopen(cmd, "w");
	CHECK(fp != NULL);
	fwrite(c, 1, 4096, fp);
	fclose(fp);
	snprintf(cmd, sizeof(cmd), "%s/iommu_group", d);
	snprintf(d, sizeof(d), "../../../kernel/iommu_groups/7");
	CHECK_EQ(symlink(d, cmd), 0);

	snprintf(d, sizeof(d), "%s/bus/pci/devices/0000:00:02.0", root);
	TRY(put(d, "vendor", "0x8086\n"));
	TRY(put(d, "device", "0x2922\n"));
	TRY(put(d, "class", "0x060400\n"));

	CHECK_EQ(fns_enumerate(root, &fns, &n), 0);
	CHECK_EQ(n, 2);
	CHECK(!strcmp(fns[0].name, "0000:00:02.0"));
	CHECK_EQ(fns[0].id.class_code, 0x06);
	CHECK(fn_unsafe_reason(&fns[0]) != NULL);	/* a bridge */
	CHECK_EQ(fns[0].iommu_group, -1);
	CHECK(!strcmp(fns[1].name, "0000:00:04.0"));
	CHECK_EQ(fns[1].id.vendor, 0x1234);
	CHECK_EQ(fns[1].id.device, 0x11e8);
	CHECK_EQ(fns[1].id.subsystem_vendor, 0x1af4);
	CHECK_EQ(fns[1].id.subclass, 0xff);
	CHECK_EQ(fns[1].id.revision, 0x10);
	CHECK_EQ(fns[1].config_size, 4096);
	CHECK_EQ(fns[1].irq_pin, 1);
	CHECK_EQ(fns[1].iommu_group, 7);
	CHECK(fn_unsafe_reason(&fns[1]) == NULL);

	/* BARs from `resource`: 32-bit memory, 64-bit prefetchable, I/O */
	fn_sysfs_bars(root, &fns[1]);
	CHECK_EQ(fns[1].bars[0].size, 0x100000);
	CHECK_EQ(fns[1].bars[0].flags, RXU_PCI_BAR_MEM);
	CHECK_EQ(fns[1].bars[0].phys, 0xfea00000);
	CHECK_EQ(fns[1].bars[1].size, 0);
	CHECK_EQ(fns[1].bars[2].size, 0x4000);
	CHECK_EQ(fns[1].bars[2].flags, RXU_PCI_BAR_MEM | RXU_PCI_BAR_64BIT |
					RXU_PCI_BAR_PREFETCH);
	CHECK_EQ(fns[1].bars[3].flags, RXU_PCI_BAR_UPPER);
	CHECK_EQ(fns[1].bars[4].size, 0x20);
	CHECK_EQ(fns[1].bars[4].flags, RXU_PCI_BAR_IO);
	CHECK_EQ(fns[1].bars[6].index, 6);

	/* config reads through sysfs, clipped at the end */
	{
		uint8_t buf[16];

		CHECK_EQ(fn_sysfs_config_read(&fns[1], root, buf, 4, 0), 4);
		CHECK_EQ(buf[0], 0x34);
		CHECK_EQ(fn_sysfs_config_read(&fns[1], root, buf, 16, 4090), 6);
		CHECK_EQ(fn_sysfs_config_read(&fns[1], root, buf, 16, 4096), 0);
		close(fns[1].sysfs_cfg_fd);
	}
	free(fns);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	CHECK_EQ(system(cmd), 0);
	return 0;
}

static int test_struct_layout(void)
{
	CHECK_EQ(sizeof(struct rxu_pci_config), 328);
	CHECK_EQ(sizeof(struct rxu_pci_bar), 32);
	CHECK_EQ(sizeof(struct rxu_pci_cap_record), 8);
	CHECK_EQ(sizeof(struct rxu_pci_capability), 32);
	CHECK_EQ(sizeof(struct rxu_pci_set_capability), 16);
	CHECK_EQ(RXU_PCI_OP_FETCH_CONFIG, 128);
	CHECK_EQ(RXU_PCI_OP_SET_CAPABILITY, 131);
	return 0;
}

static const struct tap_test tests[] = {
	{ "rules: parse and match", test_parse_and_match },
	{ "rules: first match wins", test_first_match_wins },
	{ "rules: errors name file and line", test_errors },
	{ "rules: argv expansion", test_expand },
	{ "rules: a directory in name order", test_load_dir },
	{ "addresses: parse and format", test_addr },
	{ "config space: capability walk", test_caps },
	{ "config space: the write filter", test_write_filter },
	{ "sysfs: enumeration, BARs, config reads", test_enumerate },
	{ "protocol: struct sizes", test_struct_layout },
};

TAP_MAIN(tests)
