// SPDX-License-Identifier: GPL-2.0
/*
 * Instance lifecycle (ABI.md sections 1 and 2): Initial -> Created ->
 * Attached, EBADFD for an operation the state does not allow, the
 * validation of struct rxu_create_info, and unknown ioctls.
 *
 * Everything here uses raw open/write/mmap/ioctl.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <unistd.h>

#include "rxt_harness.h"

RXT_DEV_FIXTURE();

/* A fresh Initial instance. */
FIXTURE(initial) {
	int fd;
};

FIXTURE_SETUP(initial)
{
	RXT_REQUIRE_DEV();
	self->fd = rxt_dev_open();
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", rxt_dev_path(),
				      strerror(-self->fd));
}

FIXTURE_TEARDOWN(initial)
{
	if (self->fd >= 0)
		close(self->fd);
}

static ssize_t write_ci(int fd, const struct rxu_create_info *ci)
{
	return rxt_write(fd, ci, sizeof(*ci));
}

/* Open a new instance, write ci, close it: the write's result. */
static ssize_t create_once(const struct rxu_create_info *ci)
{
	int fd = rxt_dev_open();
	ssize_t r;

	if (fd < 0)
		return fd;
	r = write_ci(fd, ci);
	close(fd);
	return r;
}

TEST_F(dev, device_is_misc_char)
{
	struct stat st;

	ASSERT_EQ(0, stat(rxt_dev_path(), &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(10U, major(st.st_rdev));	/* MISC_MAJOR */
}

TEST_F(initial, create_returns_32)
{
	struct rxu_create_info ci = rxt_ci(8, 8, 0);

	EXPECT_EQ(32, write_ci(self->fd, &ci));
}

TEST_F(initial, second_create_ebadfd)
{
	struct rxu_create_info ci = rxt_ci(8, 8, 0);

	ASSERT_EQ(32, write_ci(self->fd, &ci));
	EXPECT_EQ(-EBADFD, write_ci(self->fd, &ci));
	/* also with a different geometry */
	ci = rxt_ci(16, 4, RXU_CREATE_BITS_32);
	EXPECT_EQ(-EBADFD, write_ci(self->fd, &ci));
}

TEST_F(initial, version_major_not_1_einval)
{
	static const uint8_t majors[] = { 0, 2, 3, 0x7f, 0x80, 0xff };
	struct rxu_create_info ci;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(majors); i++) {
		ci = rxt_ci(8, 8, 0);
		ci.version_major = majors[i];
		EXPECT_EQ(-EINVAL, write_ci(self->fd, &ci))
			TH_LOG("version_major %u", majors[i]);
	}
	/* Nothing happened: the instance is still Initial. */
	ci = rxt_ci(8, 8, 0);
	EXPECT_EQ(32, write_ci(self->fd, &ci));
}

TEST_F(dev, version_minor_patch_any_value)
{
	static const uint8_t v[][2] = {
		{ 0, 0 }, { 1, 0 }, { 0, 1 }, { 0xff, 0 }, { 0, 0xff },
		{ 0x80, 0x7f }, { 0xff, 0xff },
	};
	struct rxu_create_info ci;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(v); i++) {
		ci = rxt_ci(4, 4, 0);
		ci.version_minor = v[i][0];
		ci.version_patch = v[i][1];
		EXPECT_EQ(32, create_once(&ci))
			TH_LOG("version 1.%u.%u", v[i][0], v[i][1]);
	}
}

TEST_F(initial, reserved_nonzero_einval)
{
	static const uint8_t res[] = { 1, 2, 0x80, 0xff };
	struct rxu_create_info ci;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(res); i++) {
		ci = rxt_ci(8, 8, 0);
		ci.reserved = res[i];
		EXPECT_EQ(-EINVAL, write_ci(self->fd, &ci))
			TH_LOG("reserved %u", res[i]);
	}
	ci = rxt_ci(8, 8, 0);
	EXPECT_EQ(32, write_ci(self->fd, &ci));
}

TEST_F(initial, unknown_create_flags_einval)
{
	static const uint32_t flags[] = {
		1U << 1, 1U << 2, 1U << 31, 0xfffffffeU, 0xffffffffU,
		RXU_CREATE_BITS_32 | (1U << 1),
	};
	struct rxu_create_info ci;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(flags); i++) {
		ci = rxt_ci(8, 8, flags[i]);
		EXPECT_EQ(-EINVAL, write_ci(self->fd, &ci))
			TH_LOG("flags 0x%x", flags[i]);
	}
	ci = rxt_ci(8, 8, 0);
	EXPECT_EQ(32, write_ci(self->fd, &ci));
}

TEST_F(initial, bits32_accepted)
{
	struct rxu_create_info ci = rxt_ci(8, 8, RXU_CREATE_BITS_32);

	EXPECT_EQ(32, write_ci(self->fd, &ci));
}

TEST_F(initial, len_not_32_einval)
{
	static const uint64_t lens[] = {
		0, 1, 16, 24, 31, 33, 40, 64, 4096,
		(1ULL << 32) | 32, (1ULL << 63) | 32, UINT64_MAX,
	};
	struct rxu_create_info ci;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(lens); i++) {
		ci = rxt_ci(8, 8, 0);
		ci.len = lens[i];
		EXPECT_EQ(-EINVAL, write_ci(self->fd, &ci))
			TH_LOG("len %llu", (unsigned long long)lens[i]);
	}
	ci = rxt_ci(8, 8, 0);
	EXPECT_EQ(32, write_ci(self->fd, &ci));
}

static const uint64_t bad_counts[] = {
	0, 3, 5, 6, 7, 12, 100, 1000, 4095, 32767, 32769,
	(1ULL << 32) + 1, UINT64_MAX,
};

TEST_F(initial, sq_count_invalid_einval)
{
	struct rxu_create_info ci;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad_counts); i++) {
		ci = rxt_ci(bad_counts[i], 8, 0);
		EXPECT_EQ(-EINVAL, write_ci(self->fd, &ci))
			TH_LOG("sq_entry_count %llu",
			       (unsigned long long)bad_counts[i]);
	}
	ci = rxt_ci(8, 8, 0);
	EXPECT_EQ(32, write_ci(self->fd, &ci));
}

TEST_F(initial, cq_count_invalid_einval)
{
	struct rxu_create_info ci;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad_counts); i++) {
		ci = rxt_ci(8, bad_counts[i], 0);
		EXPECT_EQ(-EINVAL, write_ci(self->fd, &ci))
			TH_LOG("cq_entry_count %llu",
			       (unsigned long long)bad_counts[i]);
	}
	ci = rxt_ci(8, 8, 0);
	EXPECT_EQ(32, write_ci(self->fd, &ci));
}

TEST_F(initial, count_above_max_entries_einval)
{
	uint64_t max = rxt_max_entries();
	const uint64_t over[] = {
		max * 2, max * 4, 1ULL << 32, 1ULL << 62, 1ULL << 63,
	};
	struct rxu_create_info ci;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(over); i++) {
		ci = rxt_ci(over[i], 8, 0);
		EXPECT_EQ(-EINVAL, write_ci(self->fd, &ci))
			TH_LOG("sq_entry_count %llu (max %llu)",
			       (unsigned long long)over[i],
			       (unsigned long long)max);
		ci = rxt_ci(8, over[i], 0);
		EXPECT_EQ(-EINVAL, write_ci(self->fd, &ci))
			TH_LOG("cq_entry_count %llu (max %llu)",
			       (unsigned long long)over[i],
			       (unsigned long long)max);
		ci = rxt_ci(over[i], over[i], RXU_CREATE_BITS_32);
		EXPECT_EQ(-EINVAL, write_ci(self->fd, &ci));
	}
	ci = rxt_ci(8, 8, 0);
	EXPECT_EQ(32, write_ci(self->fd, &ci));
}

TEST_F(dev, max_entries_default_32768)
{
	EXPECT_EQ(32768, rxt_param("max_entries"));
}

TEST_F(dev, count_bounds_accepted)
{
	uint64_t max = rxt_max_entries();
	const uint64_t ok[][2] = {
		{ 1, 1 }, { 1, 2 }, { 2, 1 }, { max, 1 }, { 1, max },
		{ max, max }, { max / 2, 64 },
	};
	struct rxu_create_info ci;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(ok); i++) {
		ci = rxt_ci(ok[i][0], ok[i][1], 0);
		EXPECT_EQ(32, create_once(&ci))
			TH_LOG("sq %llu cq %llu", (unsigned long long)ok[i][0],
			       (unsigned long long)ok[i][1]);
		ci = rxt_ci(ok[i][0], ok[i][1], RXU_CREATE_BITS_32);
		EXPECT_EQ(32, create_once(&ci))
			TH_LOG("BITS_32 sq %llu cq %llu",
			       (unsigned long long)ok[i][0],
			       (unsigned long long)ok[i][1]);
	}
}

TEST_F(initial, write_of_other_size_einval)
{
	static const size_t sizes[] = { 0, 1, 8, 16, 31, 33, 40, 64, 4096 };
	unsigned char buf[4096];
	struct rxu_create_info ci = rxt_ci(8, 8, 0);
	size_t i;

	memset(buf, 0, sizeof(buf));
	memcpy(buf, &ci, sizeof(ci));
	for (i = 0; i < ARRAY_SIZE(sizes); i++)
		EXPECT_EQ(-EINVAL, rxt_write(self->fd, buf, sizes[i]))
			TH_LOG("write of %zu bytes", sizes[i]);
	EXPECT_EQ(32, write_ci(self->fd, &ci));
}

TEST_F(initial, rejected_create_stays_initial)
{
	struct rxu_create_info ci = rxt_ci(8, 3, 0);
	int err;

	ASSERT_EQ(-EINVAL, write_ci(self->fd, &ci));
	/* Still Initial: mapping is refused with EBADFD, not allowed. */
	EXPECT_EQ(NULL, rxt_mmap_off(self->fd, RXU_OFF_SQ_HEADER, 4096,
				     MAP_SHARED, &err));
	EXPECT_EQ(-EBADFD, err);
}

TEST_F(initial, mmap_in_initial_ebadfd)
{
	int i, err;

	for (i = 0; i < RXT_NREGIONS; i++) {
		EXPECT_EQ(NULL, rxt_mmap_off(self->fd, rxt_region_off[i], 4096,
					     MAP_SHARED, &err));
		EXPECT_EQ(-EBADFD, err) TH_LOG("%s", rxt_region_name[i]);
	}
}

TEST_F(initial, attach_in_initial_ebadfd)
{
	EXPECT_EQ(-EBADFD, rxt_attach_kernel(self->fd));
}

TEST_F(initial, enter_in_initial_ebadfd)
{
	EXPECT_EQ(-EBADFD, rxt_enter_fd(self->fd, 0, 0, 0));
}

TEST_F(initial, attach_with_nothing_mapped_ebadfd)
{
	ASSERT_EQ(32, rxt_create(self->fd, 8, 8, 0));
	EXPECT_EQ(-EBADFD, rxt_attach_kernel(self->fd));
}

TEST_F(initial, enter_in_created_ebadfd)
{
	struct rxt t;

	ASSERT_EQ(0, rxt_setup_fd(&t, self->fd, 8, 8, 0));
	EXPECT_EQ(-EBADFD, rxt_enter_fd(self->fd, 0, 0, 0));
	ASSERT_EQ(0, rxt_map_all(&t));
	EXPECT_EQ(-EBADFD, rxt_enter_fd(self->fd, 0, 0, 0));
	rxt_unmap(&t);
}

/* Attach with exactly one of the four regions left unmapped. */
FIXTURE(one_unmapped) {
	struct rxt t;
};

FIXTURE_VARIANT(one_unmapped) {
	int missing;
};

FIXTURE_VARIANT_ADD(one_unmapped, sq_header) { .missing = RXT_SQ_HDR };
FIXTURE_VARIANT_ADD(one_unmapped, sq_entries) { .missing = RXT_SQ_ENT };
FIXTURE_VARIANT_ADD(one_unmapped, cq_header) { .missing = RXT_CQ_HDR };
FIXTURE_VARIANT_ADD(one_unmapped, cq_entries) { .missing = RXT_CQ_ENT };

FIXTURE_SETUP(one_unmapped)
{
	int i;

	self->t.fd = -1;
	RXT_REQUIRE_DEV();
	ASSERT_EQ(0, rxt_open_create(&self->t, 8, 8, 0));
	for (i = 0; i < RXT_NREGIONS; i++)
		if (i != variant->missing)
			ASSERT_EQ(0, rxt_map_region(&self->t, i));
}

FIXTURE_TEARDOWN(one_unmapped)
{
	rxt_destroy(&self->t);
}

TEST_F(one_unmapped, attach_ebadfd_until_mapped)
{
	EXPECT_EQ(-EBADFD, rxt_attach_kernel(self->t.fd));
	EXPECT_EQ(-EBADFD, rxt_enter_fd(self->t.fd, 0, 0, 0));
	ASSERT_EQ(0, rxt_map_region(&self->t, variant->missing));
	EXPECT_EQ(0, rxt_attach_kernel(self->t.fd));
	EXPECT_EQ(0, rxt_enter_fd(self->t.fd, 0, 0, 0));
}

/* A fully set up, attached instance. */
FIXTURE(attached) {
	struct rxt t;
};

FIXTURE_SETUP(attached)
{
	self->t.fd = -1;
	RXT_REQUIRE_DEV();
	ASSERT_EQ(0, rxt_setup(&self->t, 8, 8, 0));
}

FIXTURE_TEARDOWN(attached)
{
	rxt_destroy(&self->t);
}

TEST_F(attached, second_attach_ebadfd)
{
	EXPECT_EQ(-EBADFD, rxt_attach_kernel(self->t.fd));
	/* The instance still works. */
	EXPECT_EQ(0, rxt_enter(&self->t, 0, 0, 0));
}

TEST_F(attached, create_after_attach_ebadfd)
{
	EXPECT_EQ(-EBADFD, rxt_create(self->t.fd, 8, 8, 0));
}

TEST_F(attached, enter_after_attach_returns_0)
{
	EXPECT_EQ(0, rxt_enter(&self->t, 0, 0, 0));
}

static const unsigned long bad_ioctls[] = {
	_IO(RXU_IOC_MAGIC, 0),
	_IO(RXU_IOC_MAGIC, 1),		/* ATTACH's number, no size/direction */
	_IOW(RXU_IOC_MAGIC, 1, __u64),	/* ATTACH's number, wrong size */
	_IOW(RXU_IOC_MAGIC, 2, __u64),	/* ENTER's number, wrong size */
	_IOR(RXU_IOC_MAGIC, 2, struct rxu_enter), /* wrong direction */
	_IOW(RXU_IOC_MAGIC, 4, __u64),
	RXU_IOC_SCHEME_FEATURES,	/* a provider's only */
	_IOW(RXU_IOC_MAGIC, 0x20, __u64), /* its number, wrong size */
	_IOWR(RXU_IOC_MAGIC, 99, struct rxu_enter),
	_IOW('y', 1, struct rxu_attach),
	TCGETS,
	FIONREAD,
};

static void check_enotty(struct __test_metadata *_metadata, int fd)
{
	unsigned char arg[256];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad_ioctls); i++) {
		memset(arg, 0, sizeof(arg));
		errno = 0;
		EXPECT_EQ(-1, ioctl(fd, bad_ioctls[i], arg))
			TH_LOG("ioctl 0x%lx", bad_ioctls[i]);
		EXPECT_EQ(ENOTTY, errno) TH_LOG("ioctl 0x%lx", bad_ioctls[i]);
	}
}

TEST_F(initial, unknown_ioctl_enotty)
{
	check_enotty(_metadata, self->fd);
	ASSERT_EQ(32, rxt_create(self->fd, 8, 8, 0));
	check_enotty(_metadata, self->fd);
}

TEST_F(attached, unknown_ioctl_enotty)
{
	check_enotty(_metadata, self->t.fd);
	EXPECT_EQ(0, rxt_enter(&self->t, 0, 0, 0));
}

TEST_F(dev, instances_are_independent)
{
	int a, b;

	a = rxt_dev_open();
	ASSERT_LE(0, a);
	b = rxt_dev_open();
	ASSERT_LE(0, b);
	EXPECT_EQ(32, rxt_create(a, 8, 8, 0));
	/* b is still Initial */
	EXPECT_EQ(-EBADFD, rxt_attach_kernel(b));
	EXPECT_EQ(32, rxt_create(b, 2, 4, RXU_CREATE_BITS_32));
	EXPECT_EQ(-EBADFD, rxt_create(a, 8, 8, 0));
	close(a);
	close(b);
}

TEST_HARNESS_MAIN
