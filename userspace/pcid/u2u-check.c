// SPDX-License-Identifier: MIT
/*
 * pcid-u2u-check: a driver's view of pci: over a user-to-user ring, for
 * guest-smoke.sh.  Run as (or like) a driver pcid spawned:
 *
 *	pcid-u2u-check ADDR		(PCID_TOKEN, PCID_SCHEME from the env)
 *
 * ATTACHes SCHEME: u2u, maps a pool, then prints one line per step,
 * "NAME RESULT [details]": claim, a second claim of another function,
 * fetch_config, caps, get_cap of the MSI capability, set_cap (MSI enable
 * 1), the irq/0 eventfd by OPEN with the token, mask/unmask, a refused
 * config write, config_read.  Exit 0 if it got that far.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rxu.h"
#include "rxu_pci.h"

static struct rxu_reactor *r;
static int ring;
static struct rxu_pool pool;
static uint64_t extra;

static int64_t call(uint8_t op, uint32_t addr, uint64_t a, uint64_t len,
		    uint64_t off)
{
	struct rxu_sqe64 sqe;
	struct rxu_cqe64 cqe;
	int64_t res;

	memset(&sqe, 0, sizeof(sqe));
	sqe.opcode = op;
	sqe.syscall_flags = RXU_PCI_VERSION;
	sqe.fd = addr;
	sqe.addr = a;
	sqe.len = len;
	sqe.offset = off;
	res = rxu_reactor_call(r, ring, &sqe, &cqe, 5000000000ULL);
	extra = cqe.extra;
	return res;
}

int main(int argc, char **argv)
{
	const char *tok = getenv(RXU_PCI_ENV_TOKEN);
	const char *scheme = getenv(RXU_PCI_ENV_SCHEME);
	struct rxu_instance prim, cons;
	struct rxu_sqe64 sqe;
	struct rxu_pci_config *cfg;
	struct rxu_pci_cap_record *recs;
	struct rxu_pci_set_capability *set;
	char name[80], path[160];
	uint64_t base;
	uint32_t addr;
	uint8_t *p;
	int64_t res, n, i, msi = -1;
	int ret;

	if (argc != 2 || !tok ||
	    rxu_pci_addr_parse(argv[1], strlen(argv[1]), &addr)) {
		fprintf(stderr, "usage: PCID_TOKEN=T pcid-u2u-check ADDR\n");
		return 2;
	}
	if (!scheme)
		scheme = RXU_PCI_SCHEME;
	ret = rxu_setup(&prim, 64, 128, 0);
	if (!ret)
		ret = rxu_instance_open(&cons);
	if (!ret)
		ret = rxu_instance_create(&cons, 64, 64, 0);
	if (!ret)
		ret = rxu_instance_map(&cons);
	snprintf(name, sizeof(name), "%s:", scheme);
	if (!ret)
		ret = rxu_instance_attach(&cons, name);
	printf("attach %d\n", ret);
	if (ret)
		return 1;
	ret = rxu_reactor_create(&r, &prim, 64);
	if (ret)
		return 1;
	rxu_prep_dup_param(&sqe, cons.fd, RXU_DUP_PARAM_POOL,
			   strlen(RXU_DUP_PARAM_POOL), 0);
	res = rxu_reactor_call(r, RXU_RING_PRIMARY, &sqe, NULL, 5000000000ULL);
	printf("pool %lld\n", (long long)(res < 0 ? res : 0));
	if (res < 0)
		return 1;
	rxu_pool_init(&pool, (int)res);
	ret = rxu_pool_grow(&pool, 65536, &base);
	if (ret)
		return 1;
	p = rxu_pool_ptr(&pool, base, 65536);
	ring = rxu_reactor_add_consumer(r, &cons);
	if (ring < 0)
		return 1;

	/* before claiming: FETCH_CONFIG is public, caps are not */
	printf("caps_unclaimed %lld\n",
	       (long long)call(RXU_PCI_OP_FETCH_ALL_CAPABILITIES, addr, 0, 8,
			       base));
	memcpy(p, "0123456789abcdef0123456789abcdef", RXU_PCI_TOKEN_LEN);
	printf("claim_bad %lld\n", (long long)call(RXU_PCI_OP_CLAIM, addr,
						   base, RXU_PCI_TOKEN_LEN, 0));
	memcpy(p, tok, RXU_PCI_TOKEN_LEN);
	printf("claim %lld\n", (long long)call(RXU_PCI_OP_CLAIM, addr, base,
					       RXU_PCI_TOKEN_LEN, 0));
	printf("claim_again %lld\n", (long long)call(RXU_PCI_OP_CLAIM, addr,
						     base, RXU_PCI_TOKEN_LEN,
						     0));
	printf("claim_other %lld\n",
	       (long long)call(RXU_PCI_OP_CLAIM, RXU_PCI_ADDR(0, 0, 0, 0),
			       base, RXU_PCI_TOKEN_LEN, 0));
	printf("unknown_fn %lld\n",
	       (long long)call(RXU_PCI_OP_FETCH_CONFIG,
			       RXU_PCI_ADDR(0, 0x77, 0, 0), base, 4096, 0));

	res = call(RXU_PCI_OP_FETCH_CONFIG, addr, base, 4096, 0);
	cfg = (struct rxu_pci_config *)p;
	printf("fetch_config %lld %04x:%04x class %02x%02x%02x rule %s "
	       "bar0 %llu flags %#x msi %u msix %u\n", (long long)res,
	       cfg->vendor, cfg->device, cfg->class_code, cfg->subclass,
	       cfg->prog_if, cfg->rule,
	       (unsigned long long)cfg->bars[0].size, cfg->bars[0].flags,
	       cfg->irq_count[RXU_PCI_IRQ_MSI],
	       cfg->irq_count[RXU_PCI_IRQ_MSIX]);

	n = call(RXU_PCI_OP_FETCH_ALL_CAPABILITIES, addr, 0, 32, base);
	recs = (struct rxu_pci_cap_record *)p;
	printf("caps %lld left %llu:", (long long)n,
	       (unsigned long long)extra);
	for (i = 0; i < n; i++) {
		printf(" %x@%x", recs[i].id, recs[i].offset);
		if (!recs[i].extended && recs[i].id == RXU_PCI_CAP_ID_MSI)
			msi = i;
	}
	printf("\n");
	if (msi >= 0) {
		struct rxu_pci_capability *c = (void *)p;

		res = call(RXU_PCI_OP_GET_CAPABILITY, addr, (uint64_t)msi, 8,
			   base);
		printf("get_cap_small %lld need %llu\n", (long long)res,
		       (unsigned long long)extra);
		res = call(RXU_PCI_OP_GET_CAPABILITY, addr, (uint64_t)msi,
			   4096, base);
		printf("get_cap %lld id %x max_vectors %u 64bit %u\n",
		       (long long)res, c->rec.id, c->u.msi.max_vectors,
		       c->u.msi.is_64bit);
	}
	printf("get_cap_missing %lld\n",
	       (long long)call(RXU_PCI_OP_GET_CAPABILITY, addr, 99, 4096,
			       base));

	set = (struct rxu_pci_set_capability *)p;
	memset(set, 0, sizeof(*set));
	set->id = RXU_PCI_CAP_ID_MSIX;
	set->flags = RXU_PCI_SET_ENABLE;
	set->count = 1;
	printf("set_cap_wrong_id %lld\n",
	       (long long)call(RXU_PCI_OP_SET_CAPABILITY, addr,
			       (uint64_t)(msi < 0 ? 0 : msi), sizeof(*set),
			       base));
	printf("set_cap_missing %lld\n",
	       (long long)call(RXU_PCI_OP_SET_CAPABILITY, addr, 99,
			       sizeof(*set), base));
	set->id = RXU_PCI_CAP_ID_MSI;
	printf("set_cap %lld\n",
	       (long long)call(RXU_PCI_OP_SET_CAPABILITY, addr,
			       (uint64_t)(msi < 0 ? 0 : msi), sizeof(*set),
			       base));

	snprintf(path, sizeof(path), "%s:%s/irq/0%s%s", scheme, argv[1],
		 RXU_PCI_TOKEN_SUFFIX, tok);
	rxu_prep_open(&sqe, path, strlen(path), O_RDWR, 0, 0);
	res = rxu_reactor_call(r, RXU_RING_PRIMARY, &sqe, NULL, 5000000000ULL);
	{
		char link[64] = "", lp[64];
		ssize_t l;

		snprintf(lp, sizeof(lp), "/proc/self/fd/%lld", (long long)res);
		l = res >= 0 ? readlink(lp, link, sizeof(link) - 1) : -1;
		if (l > 0)
			link[l] = '\0';
		printf("irq0 %s\n", res >= 0 ? link : strerror((int)-res));
	}
	printf("mask %lld\n", (long long)call(RXU_PCI_OP_IRQ_MASK, addr, 0, 1,
					      0));
	printf("unmask %lld\n", (long long)call(RXU_PCI_OP_IRQ_UNMASK, addr,
						0, 1, 0));
	printf("mask_range %lld\n", (long long)call(RXU_PCI_OP_IRQ_MASK, addr,
						    0, 5, 0));
	memset(p, 0xff, 4);
	printf("config_write_bar %lld\n",
	       (long long)call(RXU_PCI_OP_CONFIG_WRITE, addr, base, 4, 0x10));
	res = call(RXU_PCI_OP_CONFIG_READ, addr, base, 4096, 0);
	printf("config_read %lld %02x%02x:%02x%02x\n", (long long)res, p[1],
	       p[0], p[3], p[2]);
	memset(&sqe, 0, sizeof(sqe));
	sqe.opcode = RXU_PCI_OP_FETCH_CONFIG;
	sqe.syscall_flags = 2;
	sqe.fd = addr;
	res = rxu_reactor_call(r, ring, &sqe, NULL, 5000000000ULL);
	printf("bad_version %lld\n", (long long)res);
	printf("done\n");
	return 0;
}
