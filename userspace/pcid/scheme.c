// SPDX-License-Identifier: MIT
/*
 * The pci: scheme on librxu's provider framework (rxu_scheme.h): k2u
 * paths (listing, config, bars, and the fds handed out with PASS_FD) and
 * u2u connections carrying the pcid opcodes.  librxu keeps the handles,
 * their positions and the rings; this file says what the paths and
 * opcodes mean.  The protocol is userspace/include/rxu_pci.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rxu.h"
#include "rxu_scheme.h"
#include "pcid.h"

#define CONN_BOUND	32		/* outstanding SQEs per u2u ring */

enum { R_PUBLIC, R_READ, R_OWNER };
enum htype { H_LIST = 1, H_CONFIG, H_BARS };

/* A handle's private part (librxu keeps the id and the position). */
struct handle {
	enum htype type;
	struct pci_fn *f;
	char *text;			/* H_LIST: a snapshot */
	size_t text_len;
	int rights;
	int writable;
};

/* A u2u connection's private part: what its driver claimed. */
struct conn {
	struct pcid *p;
	struct pci_fn *owned;
	int admin;
	struct rxu_scheme_req *req;	/* the one being served */
};

/* ------------------------------------------------------------------ */
/* helpers                                                             */
/* ------------------------------------------------------------------ */

struct pci_fn *fn_find(struct pcid *p, uint32_t addr)
{
	size_t i;

	for (i = 0; i < p->nfns; i++)
		if (p->fns[i].addr == addr)
			return &p->fns[i];
	return NULL;
}

static const char *state_name(enum fn_state s)
{
	switch (s) {
	case FN_BOUND:
		return "bound";
	case FN_RUNNING:
		return "running";
	case FN_FAILED:
		return "failed";
	default:
		return "unmatched";
	}
}

static int fn_line(struct pcid *p, const struct pci_fn *f, char *buf,
		   size_t size)
{
	char drv[64];

	fn_kernel_driver(p->sysfs, f, drv, sizeof(drv));
	return snprintf(buf, size, "%s %04x:%04x %02x%02x%02x %02x %s %s %s\n",
			f->name, f->id.vendor, f->id.device, f->id.class_code,
			f->id.subclass, f->id.prog_if, f->id.revision,
			drv[0] ? drv : "-", f->rule ? f->rule->name : "-",
			state_name(f->state));
}

/* The whole config space as the device has it (sysfs). */
static int fn_config(struct pcid *p, struct pci_fn *f, uint8_t *buf)
{
	ssize_t n;

	memset(buf, 0xff, RXU_PCI_CONFIG_MAX);
	n = fn_sysfs_config_read(f, p->sysfs, buf, f->config_size, 0);
	return n < 0 ? (int)n : (int)n;
}

static int fn_rights_token(struct pcid *p, struct pci_fn *f, const char *tok,
			   size_t len)
{
	if (f && token_equal(f->token, tok, len))
		return R_OWNER;
	if (token_equal(p->admin_token, tok, len))
		return R_READ;
	return -EACCES;
}

/* Config bytes visible with these rights. */
static uint32_t visible_size(const struct pci_fn *f, int rights)
{
	return rights >= R_READ ? f->config_size : RXU_PCI_HEADER_PUBLIC;
}

static int64_t config_read(struct pcid *p, struct pci_fn *f, int rights,
			   void *buf, uint64_t len, uint64_t off)
{
	uint32_t vis = visible_size(f, rights);
	ssize_t n;

	if (off >= vis)
		return 0;
	if (len > vis - off)
		len = vis - off;
	n = fn_sysfs_config_read(f, p->sysfs, buf, (size_t)len, off);
	return n;
}

static int64_t config_write(struct pcid *p, struct pci_fn *f, int rights,
			    const void *buf, uint64_t len, uint64_t off)
{
	uint8_t cfg[RXU_PCI_CONFIG_MAX];
	struct cap_list caps;
	int ret;

	if (rights < R_OWNER)
		return -EACCES;
	if (!len || len > RXU_PCI_CONFIG_MAX || off >= f->config_size ||
	    len > f->config_size - off)
		return -EINVAL;
	ret = fn_config(p, f, cfg);
	if (ret < 0)
		return ret;
	caps_walk(cfg, f->config_size, &caps);
	ret = config_write_allowed(cfg, f->config_size, &caps, (uint32_t)off,
				   buf, (uint32_t)len);
	if (ret)
		return ret;
	return vfio_config_write(f, buf, (size_t)len, off);
}

/* ------------------------------------------------------------------ */
/* k2u: handles and paths                                              */
/* ------------------------------------------------------------------ */

static int64_t list_text(struct pcid *p, struct pci_fn *one,
			 struct handle *h)
{
	size_t cap = 128 * (p->nfns + 1), len = 0, i;
	char *t = malloc(cap);

	if (!t)
		return -ENOMEM;
	for (i = 0; i < p->nfns; i++) {
		if (one && &p->fns[i] != one)
			continue;
		len += (size_t)fn_line(p, &p->fns[i], t + len, cap - len);
		if (len >= cap)
			len = cap - 1;
	}
	h->text = t;
	h->text_len = len;
	return 0;
}

/* Group of f shared with a function another driver owns? */
static int group_conflict(struct pcid *p, struct pci_fn *f)
{
	size_t i;

	for (i = 0; i < p->nfns; i++) {
		struct pci_fn *g = &p->fns[i];

		if (g != f && g->iommu_group == f->iommu_group &&
		    g->token[0] && strcmp(g->token, f->token))
			return 1;
	}
	return 0;
}

/*
 * What a path names: fills *h (0), or sets *pass_fd to an fd to hand
 * over (the result is then that fd and the answer carries PASS_FD).
 */
static int64_t path_open(struct pcid *p, const char *path, size_t len,
			 int accmode, struct handle *h, int *pass_fd)
{
	const char *tok = NULL, *q, *rest;
	size_t toklen = 0, sfx = strlen(RXU_PCI_TOKEN_SUFFIX), alen;
	struct pci_fn *f = NULL;
	uint32_t addr;
	int rights = R_PUBLIC;

	if (memchr(path, '\0', len))
		len = strlen(path);
	while (len && *path == '/') {
		path++;
		len--;
	}
	q = memmem(path, len, RXU_PCI_TOKEN_SUFFIX, sfx);
	if (q) {
		tok = q + sfx;
		toklen = len - (size_t)(tok - path);
		len = (size_t)(q - path);
	}
	if (!len) {				/* the listing */
		if (tok && fn_rights_token(p, NULL, tok, toklen) < 0)
			return -EACCES;
		if (accmode != O_RDONLY)
			return -EACCES;
		if (list_text(p, NULL, h))
			return -ENOMEM;
		return 0;
	}
	rest = memchr(path, '/', len);
	alen = rest ? (size_t)(rest - path) : len;
	if (rxu_pci_addr_parse(path, alen, &addr))
		return -ENOENT;
	f = fn_find(p, addr);
	if (!f)
		return -ENOENT;
	if (tok) {
		rights = fn_rights_token(p, f, tok, toklen);
		if (rights < 0)
			return -EACCES;
	}
	rest = rest ? rest + 1 : path + len;
	len -= (size_t)(rest - path);
	h->f = f;
	h->rights = rights;

#define IS(s) (len == strlen(s) && !memcmp(rest, s, len))
	if (!len) {
		if (accmode != O_RDONLY)
			return -EACCES;
		if (list_text(p, f, h))
			return -ENOMEM;
		return 0;
	}
	if (IS("config")) {
		h->type = H_CONFIG;
		h->writable = accmode != O_RDONLY;
		return 0;
	}
	if (IS("bars")) {
		if (accmode != O_RDONLY)
			return -EACCES;
		h->type = H_BARS;
		return 0;
	}
	if (IS("device") || IS("container") ||
	    (len > 4 && !memcmp(rest, "irq/", 4))) {
		if (rights < R_OWNER)
			return -EACCES;
		if (f->device_fd < 0 || !f->group)
			return -ENODEV;
		if (IS("device")) {
			*pass_fd = f->device_fd;
		} else if (IS("container")) {
			if (group_conflict(p, f))
				return -EBUSY;
			*pass_fd = f->group->container;
		} else {
			char num[8], *end;
			unsigned long v;

			if (len - 4 >= sizeof(num))
				return -ENOENT;
			memcpy(num, rest + 4, len - 4);
			num[len - 4] = '\0';
			v = strtoul(num, &end, 10);
			if (*end || !num[0] || v >= (unsigned long)f->nvec ||
			    f->efd[v] < 0)
				return -ENOENT;
			*pass_fd = f->efd[v];
		}
		return *pass_fd;
	}
#undef IS
	return -ENOENT;
}

static struct pcid *req_pcid(const struct rxu_scheme_req *req)
{
	return rxu_scheme_priv(req->conn->scheme);
}

static int64_t p_open(struct rxu_scheme_req *req, struct rxu_scheme_handle *rh,
		      const char *path, size_t len, uint64_t flags,
		      uint32_t mode)
{
	struct handle h = { .type = H_LIST }, *hp;
	int pass_fd = -1;
	int64_t ret;

	(void)mode;
	rh->flags &= ~(uint64_t)O_APPEND;	/* nothing here appends */
	ret = path_open(req_pcid(req), path, len, (int)(flags & O_ACCMODE),
			&h, &pass_fd);
	if (ret < 0)
		return ret;
	if (pass_fd >= 0)
		return rxu_scheme_pass_fd(req, pass_fd);
	hp = malloc(sizeof(*hp));
	if (!hp) {
		free(h.text);
		return -ENOMEM;
	}
	*hp = h;
	rh->priv = hp;
	return 0;
}

static int64_t p_read(struct rxu_scheme_req *req, struct rxu_scheme_handle *rh,
		      void *buf, uint64_t len, uint64_t pos)
{
	const struct handle *h = rh->priv;

	switch (h->type) {
	case H_LIST:
		return rxu_scheme_copy_out(buf, len, pos, h->text, h->text_len);
	case H_BARS:
		return rxu_scheme_copy_out(buf, len, pos, h->f->bars,
					   sizeof(h->f->bars));
	default:
		return config_read(req_pcid(req), h->f, h->rights, buf, len,
				   pos);
	}
}

static int64_t p_write(struct rxu_scheme_req *req,
		       struct rxu_scheme_handle *rh, const void *buf,
		       uint64_t len, uint64_t pos)
{
	const struct handle *h = rh->priv;

	if (h->type != H_CONFIG || !h->writable)
		return -EBADF;
	if (!len)
		return 0;
	return config_write(req_pcid(req), h->f, h->rights, buf, len, pos);
}

static int64_t p_size(struct rxu_scheme_handle *rh)
{
	const struct handle *h = rh->priv;

	switch (h->type) {
	case H_LIST:
		return (int64_t)h->text_len;
	case H_BARS:
		return sizeof(h->f->bars);
	default:
		return visible_size(h->f, h->rights);
	}
}

static int64_t p_fstat(struct rxu_scheme_req *req,
		       struct rxu_scheme_handle *rh, struct stat *st)
{
	const struct handle *h = rh->priv;

	(void)req;
	st->st_mode = S_IFREG | (h->type == H_CONFIG ? 0600 : 0444);
	st->st_uid = 0;
	st->st_gid = 0;
	st->st_blocks = 0;
	return 0;
}

static int64_t p_dup(struct rxu_scheme_req *req, struct rxu_scheme_handle *old,
		     struct rxu_scheme_handle *nh, const void *param,
		     size_t len)
{
	const struct handle *h = old->priv;
	struct handle *n;

	(void)req;
	(void)param;
	if (len)
		return -EINVAL;
	n = malloc(sizeof(*n));
	if (!n)
		return -ENOMEM;
	*n = *h;
	if (h->text) {
		n->text = malloc(h->text_len + 1);
		if (!n->text) {
			free(n);
			return -ENOMEM;
		}
		memcpy(n->text, h->text, h->text_len);
	}
	nh->priv = n;
	return 0;
}

static void p_close(struct rxu_scheme_req *req, struct rxu_scheme_handle *rh)
{
	struct handle *h = rh->priv;

	(void)req;
	free(h->text);
	free(h);
	rh->priv = NULL;
}

/* ------------------------------------------------------------------ */
/* u2u connections                                                     */
/* ------------------------------------------------------------------ */

/* Pool memory of the request being served. */
static void *conn_ptr(struct conn *c, uint64_t off, uint64_t len)
{
	return rxu_scheme_buf(c->req, off, len);
}

static int conn_rights(struct conn *c, struct pci_fn *f)
{
	if (c->owned == f)
		return R_OWNER;
	return c->admin ? R_READ : R_PUBLIC;
}

static int64_t u_claim(struct pcid *p, struct conn *c, struct pci_fn *f,
		       const struct rxu_sqe64 *sqe)
{
	const char *tok = conn_ptr(c, sqe->addr, sqe->len);
	int r;

	if (!tok)
		return -EFAULT;
	r = fn_rights_token(p, f, tok, sqe->len);
	if (r < 0)
		return r;
	if (r == R_READ) {
		c->admin = 1;
		return 0;
	}
	if (f->owner == c)
		return 0;
	if (f->owner || c->owned)
		return -EBUSY;
	f->owner = c;
	c->owned = f;
	return 0;
}

static void fill_config(struct pcid *p, struct pci_fn *f,
			struct rxu_pci_config *o)
{
	uint8_t cfg[RXU_PCI_CONFIG_MAX];
	struct cap_list caps;
	unsigned i;

	memset(o, 0, sizeof(*o));
	fn_config(p, f, cfg);
	caps_walk(cfg, f->config_size, &caps);
	o->version = RXU_PCI_VERSION;
	o->size = sizeof(*o);
	o->address = f->addr;
	o->iommu_group = f->iommu_group < 0 ? 0xffffffffu
					    : (uint32_t)f->iommu_group;
	o->vendor = f->id.vendor;
	o->device = f->id.device;
	o->subsystem_vendor = f->id.subsystem_vendor;
	o->subsystem_device = f->id.subsystem_device;
	o->class_code = f->id.class_code;
	o->subclass = f->id.subclass;
	o->prog_if = f->id.prog_if;
	o->revision = f->id.revision;
	o->header_type = f->header_type;
	o->irq_pin = f->irq_pin;
	o->irq_enabled = f->irq_type < 0 ? RXU_PCI_IRQ_NONE
					 : (uint8_t)f->irq_type;
	o->irq_vectors = (uint8_t)f->nvec;
	o->config_size = f->config_size;
	o->nr_capabilities = (uint16_t)caps.n;
	if (f->device_fd >= 0)
		o->flags |= RXU_PCI_CFG_VFIO;
	if (f->has_reset)
		o->flags |= RXU_PCI_CFG_RESET;
	if (f->owner)
		o->flags |= RXU_PCI_CFG_OWNED;
	for (i = 0; i < caps.n; i++)
		if (!caps.rec[i].extended && caps.rec[i].id == 0x10)
			o->flags |= RXU_PCI_CFG_PCIE;
	for (i = 0; i < 3; i++) {
		o->irq_count[i] = f->irq_count[i];
		o->irq_flags[i] = f->irq_flags[i];
	}
	if (f->rule)
		snprintf(o->rule, sizeof(o->rule), "%s", f->rule->name);
	memcpy(o->bars, f->bars, sizeof(o->bars));
	o->rom = f->bars[RXU_PCI_NR_BARS];
}

static int64_t u_caps(struct pcid *p, struct conn *c, struct pci_fn *f,
		      const struct rxu_sqe64 *sqe, uint64_t *extra)
{
	uint8_t cfg[RXU_PCI_CONFIG_MAX];
	struct rxu_pci_cap_record *out;
	struct cap_list caps;
	uint64_t n;

	if (conn_rights(c, f) < R_READ)
		return -EACCES;
	if (sqe->len > RXU_PCI_MAX_CAP_RECORDS)
		return -EINVAL;
	out = conn_ptr(c, sqe->offset, sqe->len * sizeof(*out));
	if (!out)
		return -EFAULT;
	fn_config(p, f, cfg);
	caps_walk(cfg, f->config_size, &caps);
	if (sqe->addr >= caps.n) {
		*extra = 0;
		return 0;
	}
	n = caps.n - sqe->addr;
	if (n > sqe->len)
		n = sqe->len;
	memcpy(out, &caps.rec[sqe->addr], (size_t)n * sizeof(*out));
	*extra = caps.n - sqe->addr - n;
	return (int64_t)n;
}

static int64_t u_get_cap(struct pcid *p, struct conn *c, struct pci_fn *f,
			 const struct rxu_sqe64 *sqe, uint64_t *extra)
{
	uint8_t cfg[RXU_PCI_CONFIG_MAX];
	struct rxu_pci_capability cap;
	const struct rxu_pci_cap_record *rec;
	struct cap_list caps;
	uint64_t need;
	uint8_t *out;
	uint16_t ctl;

	if (conn_rights(c, f) < R_READ)
		return -EACCES;
	fn_config(p, f, cfg);
	caps_walk(cfg, f->config_size, &caps);
	if (sqe->addr >= caps.n)
		return -ENOENT;
	rec = &caps.rec[sqe->addr];
	need = sizeof(cap) + rec->length;
	if (sqe->len < need) {
		*extra = need;
		return -ENOBUFS;
	}
	out = conn_ptr(c, sqe->offset, need);
	if (!out)
		return -EFAULT;
	memset(&cap, 0, sizeof(cap));
	cap.rec = *rec;
	if (!rec->extended && rec->id == RXU_PCI_CAP_ID_MSI) {
		ctl = (uint16_t)(cfg[rec->offset + 2] | cfg[rec->offset + 3] << 8);
		cap.u.msi.control = ctl;
		cap.u.msi.log2_capable = (ctl >> 1) & 7;
		cap.u.msi.is_64bit = !!(ctl & 0x80);
		cap.u.msi.per_vector_mask = !!(ctl & 0x100);
		cap.u.msi.max_vectors = 1u << cap.u.msi.log2_capable;
		if (f->irq_type == RXU_PCI_IRQ_MSI) {
			cap.flags |= RXU_PCI_CAPF_ENABLED;
			cap.vectors_enabled = (uint32_t)f->nvec;
		}
	} else if (!rec->extended && rec->id == RXU_PCI_CAP_ID_MSIX) {
		uint32_t t, b;

		ctl = (uint16_t)(cfg[rec->offset + 2] | cfg[rec->offset + 3] << 8);
		memcpy(&t, cfg + rec->offset + 4, 4);
		memcpy(&b, cfg + rec->offset + 8, 4);
		cap.u.msix.control = ctl;
		cap.u.msix.table_size = (uint16_t)((ctl & 0x7ff) + 1);
		cap.u.msix.table_bar = (uint8_t)(t & 7);
		cap.u.msix.table_offset = t & ~7u;
		cap.u.msix.pba_bar = (uint8_t)(b & 7);
		cap.u.msix.pba_offset = b & ~7u;
		if (f->irq_type == RXU_PCI_IRQ_MSIX) {
			int i, all = 1;

			cap.flags |= RXU_PCI_CAPF_ENABLED;
			cap.vectors_enabled = (uint32_t)f->nvec;
			for (i = 0; i < f->nvec; i++)
				if (f->latch[i] < 0)
					all = 0;
			if (all && f->nvec)
				cap.flags |= RXU_PCI_CAPF_MASKED;
		}
	}
	memcpy(out, &cap, sizeof(cap));
	memcpy(out + sizeof(cap), cfg + rec->offset, rec->length);
	return (int64_t)need;
}

static int64_t u_set_cap(struct pcid *p, struct conn *c, struct pci_fn *f,
			 const struct rxu_sqe64 *sqe)
{
	const struct rxu_pci_set_capability *in;
	struct rxu_pci_set_capability s;
	int type, ret;
	unsigned fl;

	if (conn_rights(c, f) < R_OWNER)
		return -EACCES;
	if (sqe->len != sizeof(s))
		return -EINVAL;
	in = conn_ptr(c, sqe->offset, sizeof(s));
	if (!in)
		return -EFAULT;
	memcpy(&s, in, sizeof(s));
	if (sqe->addr == RXU_PCI_INDEX_INTX) {
		if (s.id)
			return -EINVAL;
		type = RXU_PCI_IRQ_INTX;
	} else {
		uint8_t cfg[RXU_PCI_CONFIG_MAX];
		struct cap_list caps;
		const struct rxu_pci_cap_record *rec;

		fn_config(p, f, cfg);
		caps_walk(cfg, f->config_size, &caps);
		if (sqe->addr >= caps.n)
			return -ENOENT;
		rec = &caps.rec[sqe->addr];
		if (rec->extended || (rec->id != RXU_PCI_CAP_ID_MSI &&
				      rec->id != RXU_PCI_CAP_ID_MSIX) ||
		    s.id != rec->id)
			return -EINVAL;
		type = rec->id == RXU_PCI_CAP_ID_MSI ? RXU_PCI_IRQ_MSI
						     : RXU_PCI_IRQ_MSIX;
	}
	fl = s.flags;
	if (s.reserved || !fl || (fl & (fl - 1)) ||
	    (fl & ~(RXU_PCI_SET_ENABLE | RXU_PCI_SET_DISABLE |
		    RXU_PCI_SET_MASK_ALL | RXU_PCI_SET_UNMASK_ALL)) ||
	    (fl != RXU_PCI_SET_ENABLE && s.count))
		return -EINVAL;
	switch (fl) {
	case RXU_PCI_SET_ENABLE:
		if (!s.count || s.count > f->irq_count[type])
			return -EINVAL;
		ret = vfio_irq_enable(f, type, (int)s.count);
		if (ret > 0)
			pcid_log("%s: %u %s vector(s) enabled", f->name,
				 s.count, type == RXU_PCI_IRQ_MSIX ? "MSI-X" :
				 type == RXU_PCI_IRQ_MSI ? "MSI" : "INTx");
		return ret;
	case RXU_PCI_SET_DISABLE:
		if (f->irq_type == type)
			vfio_irq_disable(f);
		return 0;
	default:
		if (f->irq_type != type)
			return -EINVAL;
		ret = vfio_irq_mask(f, 0, (unsigned)f->nvec,
				    fl == RXU_PCI_SET_MASK_ALL);
		return ret ? ret : f->nvec;
	}
}

static int64_t u_serve(struct pcid *p, struct conn *c,
		       const struct rxu_sqe64 *sqe, uint64_t *extra)
{
	struct pci_fn *f;
	void *buf;
	int64_t ret;

	if (sqe->opcode < RXU_PCI_OP_FETCH_CONFIG ||
	    sqe->opcode > RXU_PCI_OP_RESET ||
	    sqe->syscall_flags != RXU_PCI_VERSION)
		return -ENOSYS;
	if (sqe->flags || sqe->additional1 || sqe->additional2 ||
	    sqe->fd > UINT32_MAX)
		return -EINVAL;
	f = fn_find(p, (uint32_t)sqe->fd);
	if (!f)
		return -ENOENT;
	switch (sqe->opcode) {
	case RXU_PCI_OP_CLAIM:
		return u_claim(p, c, f, sqe);
	case RXU_PCI_OP_FETCH_CONFIG: {
		struct rxu_pci_config cfg;

		if (sqe->len < sizeof(cfg))
			return -EINVAL;
		buf = conn_ptr(c, sqe->addr, sizeof(cfg));
		if (!buf)
			return -EFAULT;
		fill_config(p, f, &cfg);
		memcpy(buf, &cfg, sizeof(cfg));
		return sizeof(cfg);
	}
	case RXU_PCI_OP_FETCH_ALL_CAPABILITIES:
		return u_caps(p, c, f, sqe, extra);
	case RXU_PCI_OP_GET_CAPABILITY:
		return u_get_cap(p, c, f, sqe, extra);
	case RXU_PCI_OP_SET_CAPABILITY:
		return u_set_cap(p, c, f, sqe);
	case RXU_PCI_OP_IRQ_MASK:
	case RXU_PCI_OP_IRQ_UNMASK:
		if (conn_rights(c, f) < R_OWNER)
			return -EACCES;
		if (sqe->addr > UINT32_MAX || !sqe->len ||
		    sqe->len > PCID_MAX_VECTORS)
			return -EINVAL;
		return vfio_irq_mask(f, (unsigned)sqe->addr,
				     (unsigned)sqe->len,
				     sqe->opcode == RXU_PCI_OP_IRQ_MASK);
	case RXU_PCI_OP_CONFIG_READ:
	case RXU_PCI_OP_CONFIG_WRITE:
		if (!sqe->len || sqe->len > RXU_PCI_CONFIG_MAX ||
		    sqe->offset > RXU_PCI_CONFIG_MAX)
			return -EINVAL;
		buf = conn_ptr(c, sqe->addr, sqe->len);
		if (!buf)
			return -EFAULT;
		if (sqe->opcode == RXU_PCI_OP_CONFIG_READ)
			return config_read(p, f, conn_rights(c, f), buf,
					   sqe->len, sqe->offset);
		return config_write(p, f, conn_rights(c, f), buf, sqe->len,
				    sqe->offset);
	case RXU_PCI_OP_RESET:
		if (conn_rights(c, f) < R_OWNER)
			return -EACCES;
		vfio_irq_disable(f);
		ret = vfio_reset(f);
		return ret;
	}
	return -ENOSYS;
}

/* u2u opcodes 128..255 (NOOP and the rest librxu answers itself). */
static int64_t p_op(struct rxu_scheme_req *req)
{
	struct conn *c = req->conn->priv;

	c->req = req;
	return u_serve(c->p, c, &req->sqe, &req->extra);
}

static int p_connect(struct rxu_scheme_conn *sc)
{
	struct conn *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	c->p = rxu_scheme_priv(sc->scheme);
	sc->priv = c;
	return 0;
}

static void p_disconnect(struct rxu_scheme_conn *sc)
{
	struct pcid *p = rxu_scheme_priv(sc->scheme);
	struct conn *c = sc->priv;
	struct pci_fn *f;

	if (!sc->u2u) {
		pcid_log("the scheme's ring went away");
		p->failed = 1;
		rxu_reactor_stop(p->r);
		return;
	}
	f = c->owned;
	if (f) {
		f->owner = NULL;
		c->owned = NULL;
		/* the driver dropped its ring (exit): the claim ends */
		if (!p->stopping) {
			pcid_log("%s: the driver's connection dropped",
				 f->name);
			fn_driver_gone(p, f, 0);
		}
	}
	free(c);
	sc->priv = NULL;
}

/* FSYNC (0) and FTRUNCATE (-EINVAL) are librxu's defaults. */
static const struct rxu_scheme_ops pcid_ops = {
	.open = p_open,
	.read = p_read,
	.write = p_write,
	.size = p_size,
	.fstat = p_fstat,
	.dup = p_dup,
	.close = p_close,
	.op = p_op,
	.connect = p_connect,
	.disconnect = p_disconnect,
};

void scheme_drop_owner(struct pcid *p, struct pci_fn *f)
{
	(void)p;
	if (f->owner) {
		f->owner->owned = NULL;
		f->owner = NULL;
	}
}

int scheme_start(struct pcid *p)
{
	const struct rxu_scheme_config cfg = {
		.flags = RXU_SCHEME_U2U | RXU_SCHEME_U2U_OPS_ONLY,
		.conn_bound = CONN_BOUND,
	};

	return rxu_scheme_register(&p->srv, p->r, p->scheme, &cfg, &pcid_ops,
				   p);
}

void scheme_stop(struct pcid *p)
{
	p->stopping = 1;
	rxu_scheme_destroy(p->srv);
	p->srv = NULL;
}
