// SPDX-License-Identifier: MIT
/*
 * pcid driver rules: INI files parsed by inih (Debian's libinih).
 *
 *	[edu]                     ; the rule's name, [A-Za-z0-9_.-], <= 31
 *	vendor = 0x1234           ; match keys, each optional, all must match
 *	device = 0x11e8
 *	class = 0x00              ; also subclass, prog_if (alias interface),
 *	                          ; subsystem_vendor, subsystem_device
 *	command = /usr/local/libexec/redox_uring/edud $ADDR
 *	restart = 3               ; restarts after crashes (default 3, 0 = none)
 *	force = no                ; yes: bind even a bridge or the boot VGA
 *	enabled = yes             ; no: the rule is ignored
 *
 * Numbers are C literals (0x.., 0.., decimal).  `command` is split on
 * blanks (no quoting); the words $ADDR, $VENDOR, $DEVICE, $RULE and
 * $SCHEME are replaced.  Files: every *.conf of the directory, in name
 * order; rules in file order; the first matching rule wins.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

#include "pcid.h"

struct parse_ctx {
	struct rules *rs;
	const char *file;
	struct rule *cur;
	unsigned seen;			/* keys set in cur (bit per key) */
	int err;
	char msg[256];
};

static char err_buf[320];

enum key_bit {
	K_VENDOR, K_DEVICE, K_CLASS, K_SUBCLASS, K_PROGIF, K_SVENDOR,
	K_SDEVICE, K_COMMAND, K_RESTART, K_FORCE, K_ENABLED,
};

static void rule_free(struct rule *r)
{
	int i;

	for (i = 0; i < r->argc; i++)
		free(r->argv[i]);
	free(r->argv);
	free(r->file);
}

void rules_free(struct rules *rs)
{
	size_t i;

	for (i = 0; i < rs->n; i++)
		rule_free(&rs->v[i]);
	free(rs->v);
	rs->v = NULL;
	rs->n = 0;
}

static int parse_num(const char *v, long max, int *out)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 0);
	if (errno || end == v || *end || n < 0 || n > max)
		return -1;
	*out = (int)n;
	return 0;
}

static int parse_bool(const char *v, int *out)
{
	if (!strcasecmp(v, "yes") || !strcasecmp(v, "true") || !strcmp(v, "1")) {
		*out = 1;
		return 0;
	}
	if (!strcasecmp(v, "no") || !strcasecmp(v, "false") || !strcmp(v, "0")) {
		*out = 0;
		return 0;
	}
	return -1;
}

static int split_command(struct rule *r, const char *v)
{
	const char *p = v;

	while (*p) {
		const char *s;
		char **n;

		while (*p && isspace((unsigned char)*p))
			p++;
		if (!*p)
			break;
		s = p;
		while (*p && !isspace((unsigned char)*p))
			p++;
		n = realloc(r->argv, (size_t)(r->argc + 2) * sizeof(*n));
		if (!n)
			return -ENOMEM;
		r->argv = n;
		r->argv[r->argc] = strndup(s, (size_t)(p - s));
		if (!r->argv[r->argc])
			return -ENOMEM;
		r->argv[++r->argc] = NULL;
	}
	return r->argc ? 0 : -EINVAL;
}

static int valid_name(const char *s)
{
	size_t n = strlen(s), i;

	if (!n || n > RULE_NAME_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("_.-", s[i]))
			return 0;
	return 1;
}

static struct rule *rule_new(struct parse_ctx *c, const char *section)
{
	struct rule *n, *r;
	size_t i;

	for (i = 0; i < c->rs->n; i++)
		if (!strcmp(c->rs->v[i].name, section))
			return NULL;		/* duplicate, reported by caller */
	n = realloc(c->rs->v, (c->rs->n + 1) * sizeof(*n));
	if (!n)
		return NULL;
	c->rs->v = n;
	r = &n[c->rs->n++];
	memset(r, 0, sizeof(*r));
	snprintf(r->name, sizeof(r->name), "%s", section);
	r->vendor = r->device = r->class_code = r->subclass = r->prog_if = -1;
	r->subsystem_vendor = r->subsystem_device = -1;
	r->max_restarts = 3;
	r->file = strdup(c->file);
	return r;
}

/* inih's callback: 1 = go on, 0 = error on this line. */
static int on_key(void *user, const char *section, const char *name,
		  const char *value)
{
	struct parse_ctx *c = user;
	struct rule *r = c->cur;
	unsigned bit;
	int ret = 0;

	if (!r || strcmp(r->name, section)) {
		if (!*section) {
			snprintf(c->msg, sizeof(c->msg),
				 "key '%s' outside a [rule] section", name);
			return 0;
		}
		if (!valid_name(section)) {
			snprintf(c->msg, sizeof(c->msg),
				 "bad rule name '%s'", section);
			return 0;
		}
		r = rule_new(c, section);
		if (!r) {
			snprintf(c->msg, sizeof(c->msg),
				 "rule [%s] defined twice (or out of memory)",
				 section);
			return 0;
		}
		c->cur = r;
		c->seen = 0;
	}

	if (!strcmp(name, "vendor")) {
		bit = K_VENDOR;
		ret = parse_num(value, 0xffff, &r->vendor);
	} else if (!strcmp(name, "device")) {
		bit = K_DEVICE;
		ret = parse_num(value, 0xffff, &r->device);
	} else if (!strcmp(name, "class")) {
		bit = K_CLASS;
		ret = parse_num(value, 0xff, &r->class_code);
	} else if (!strcmp(name, "subclass")) {
		bit = K_SUBCLASS;
		ret = parse_num(value, 0xff, &r->subclass);
	} else if (!strcmp(name, "prog_if") || !strcmp(name, "interface")) {
		bit = K_PROGIF;
		ret = parse_num(value, 0xff, &r->prog_if);
	} else if (!strcmp(name, "subsystem_vendor")) {
		bit = K_SVENDOR;
		ret = parse_num(value, 0xffff, &r->subsystem_vendor);
	} else if (!strcmp(name, "subsystem_device")) {
		bit = K_SDEVICE;
		ret = parse_num(value, 0xffff, &r->subsystem_device);
	} else if (!strcmp(name, "command")) {
		bit = K_COMMAND;
		if (!(c->seen & (1u << bit)))
			ret = split_command(r, value);
		if (ret == -ENOMEM) {
			c->err = -ENOMEM;
			snprintf(c->msg, sizeof(c->msg), "out of memory");
			return 0;
		}
	} else if (!strcmp(name, "restart")) {
		bit = K_RESTART;
		ret = parse_num(value, 1000, &r->max_restarts);
	} else if (!strcmp(name, "force")) {
		bit = K_FORCE;
		ret = parse_bool(value, &r->force);
	} else if (!strcmp(name, "enabled")) {
		int en = 1;

		bit = K_ENABLED;
		ret = parse_bool(value, &en);
		r->disabled = !en;
	} else {
		snprintf(c->msg, sizeof(c->msg), "unknown key '%s'", name);
		return 0;
	}
	if (c->seen & (1u << bit)) {
		snprintf(c->msg, sizeof(c->msg), "key '%s' given twice", name);
		return 0;
	}
	c->seen |= 1u << bit;
	if (ret) {
		snprintf(c->msg, sizeof(c->msg), "bad value for '%s': '%s'",
			 name, value);
		return 0;
	}
	return 1;
}

static int check_rules(struct rules *rs, size_t from, const char **err)
{
	size_t i;

	for (i = from; i < rs->n; i++) {
		if (!rs->v[i].argc && !rs->v[i].disabled) {
			snprintf(err_buf, sizeof(err_buf),
				 "%s: rule [%s] has no command",
				 rs->v[i].file, rs->v[i].name);
			*err = err_buf;
			return -EINVAL;
		}
	}
	return 0;
}

static int finish(struct parse_ctx *c, int line, size_t from,
		  const char **err)
{
	if (line) {
		if (line < 0)
			snprintf(err_buf, sizeof(err_buf), "%s: cannot read",
				 c->file);
		else
			snprintf(err_buf, sizeof(err_buf), "%s:%d: %s",
				 c->file, line,
				 c->msg[0] ? c->msg : "syntax error");
		*err = err_buf;
		return c->err ? c->err : (line < 0 ? -EIO : -EINVAL);
	}
	return check_rules(c->rs, from, err);
}

int rules_parse_string(struct rules *rs, const char *text, const char *file,
		       const char **err)
{
	struct parse_ctx c = { .rs = rs, .file = file };
	size_t from = rs->n;

	*err = NULL;
	return finish(&c, ini_parse_string(text, on_key, &c), from, err);
}

static int conf_filter(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return d->d_name[0] != '.' && n > 5 &&
	       !strcmp(d->d_name + n - 5, ".conf");
}

int rules_load_dir(struct rules *rs, const char *dir, const char **err)
{
	struct dirent **ents;
	int n, i, ret = 0;

	*err = NULL;
	n = scandir(dir, &ents, conf_filter, alphasort);
	if (n < 0) {
		snprintf(err_buf, sizeof(err_buf), "%s: %s", dir,
			 strerror(errno));
		*err = err_buf;
		return -errno;
	}
	for (i = 0; i < n; i++) {
		char path[PATH_MAX];
		struct parse_ctx c = { .rs = rs, .file = path };
		size_t from = rs->n;

		snprintf(path, sizeof(path), "%s/%s", dir, ents[i]->d_name);
		if (!ret)
			ret = finish(&c, ini_parse(path, on_key, &c), from,
				     err);
		free(ents[i]);
	}
	free(ents);
	return ret;
}

int rule_matches(const struct rule *r, const struct pci_ident *id)
{
	if (r->disabled)
		return 0;
	if (r->vendor >= 0 && r->vendor != id->vendor)
		return 0;
	if (r->device >= 0 && r->device != id->device)
		return 0;
	if (r->class_code >= 0 && r->class_code != id->class_code)
		return 0;
	if (r->subclass >= 0 && r->subclass != id->subclass)
		return 0;
	if (r->prog_if >= 0 && r->prog_if != id->prog_if)
		return 0;
	if (r->subsystem_vendor >= 0 &&
	    r->subsystem_vendor != id->subsystem_vendor)
		return 0;
	if (r->subsystem_device >= 0 &&
	    r->subsystem_device != id->subsystem_device)
		return 0;
	return 1;
}

const struct rule *rules_match(const struct rules *rs,
			       const struct pci_ident *id)
{
	size_t i;

	for (i = 0; i < rs->n; i++)
		if (rule_matches(&rs->v[i], id))
			return &rs->v[i];
	return NULL;
}

void argv_free(char **argv)
{
	size_t i;

	if (!argv)
		return;
	for (i = 0; argv[i]; i++)
		free(argv[i]);
	free(argv);
}

/* Replace every $VAR of the table in word. */
static char *expand_word(const char *word, const char *const vars[][2],
			 size_t nvars)
{
	size_t cap = strlen(word) + 1, len = 0, i;
	char *out = malloc(cap);
	const char *p = word;

	if (!out)
		return NULL;
	while (*p) {
		const char *val = NULL;
		size_t skip = 1, vlen;

		if (*p == '$') {
			for (i = 0; i < nvars; i++) {
				size_t kl = strlen(vars[i][0]);

				if (!strncmp(p + 1, vars[i][0], kl)) {
					val = vars[i][1];
					skip = kl + 1;
					break;
				}
			}
		}
		vlen = val ? strlen(val) : 1;
		if (len + vlen + 1 > cap) {
			char *n;

			cap = (len + vlen + 1) * 2;
			n = realloc(out, cap);
			if (!n) {
				free(out);
				return NULL;
			}
			out = n;
		}
		memcpy(out + len, val ? val : p, vlen);
		len += vlen;
		p += skip;
	}
	out[len] = '\0';
	return out;
}

char **rule_expand_argv(const struct rule *r, const char *addr,
			const struct pci_ident *id, const char *scheme)
{
	char vendor[8], device[8];
	const char *const vars[][2] = {
		{ "ADDR", addr }, { "VENDOR", vendor }, { "DEVICE", device },
		{ "RULE", r->name }, { "SCHEME", scheme },
	};
	char **argv;
	int i;

	snprintf(vendor, sizeof(vendor), "%04x", id->vendor);
	snprintf(device, sizeof(device), "%04x", id->device);
	argv = calloc((size_t)r->argc + 1, sizeof(*argv));
	if (!argv)
		return NULL;
	for (i = 0; i < r->argc; i++) {
		argv[i] = expand_word(r->argv[i], vars,
				      sizeof(vars) / sizeof(vars[0]));
		if (!argv[i]) {
			argv_free(argv);
			return NULL;
		}
	}
	return argv;
}
