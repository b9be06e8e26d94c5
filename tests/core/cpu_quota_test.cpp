#include <dusty/core/detail/cpu_quota.hpp>

#include <gtest/gtest.h>

#include <map>

namespace {

using dusty::detail::cgroup_cpu_limit;
using dusty::detail::cpus_for_quota;
using dusty::detail::parse_cfs_quota;
using dusty::detail::parse_cpu_max;

TEST(cpu_quota, quota_rounds_up_to_whole_cpus) {
  EXPECT_EQ(cpus_for_quota(100000, 100000), 1u);
  EXPECT_EQ(cpus_for_quota(150000, 100000), 2u);
  EXPECT_EQ(cpus_for_quota(200000, 100000), 2u);
  EXPECT_EQ(cpus_for_quota(200001, 100000), 3u);
  EXPECT_EQ(cpus_for_quota(10000, 100000), 1u);  // a tenth of a CPU still gets one shard
  EXPECT_EQ(cpus_for_quota(1, 1000000), 1u);
}

TEST(cpu_quota, non_positive_quota_or_period_is_no_limit) {
  EXPECT_EQ(cpus_for_quota(-1, 100000), std::nullopt);
  EXPECT_EQ(cpus_for_quota(0, 100000), std::nullopt);
  EXPECT_EQ(cpus_for_quota(100000, 0), std::nullopt);
}

TEST(cpu_quota, cgroup2_cpu_max) {
  EXPECT_EQ(parse_cpu_max("max 100000\n"), std::nullopt);
  EXPECT_EQ(parse_cpu_max("150000 100000\n"), 2u);
  EXPECT_EQ(parse_cpu_max("50000 100000"), 1u);
  EXPECT_EQ(parse_cpu_max("400000 100000\n"), 4u);
  EXPECT_EQ(parse_cpu_max(""), std::nullopt);
  EXPECT_EQ(parse_cpu_max("150000"), std::nullopt);
  EXPECT_EQ(parse_cpu_max("lots 100000"), std::nullopt);
  EXPECT_EQ(parse_cpu_max("150000 100000 7"), std::nullopt);
}

TEST(cpu_quota, cgroup1_cfs_quota) {
  EXPECT_EQ(parse_cfs_quota("-1\n", "100000\n"), std::nullopt);
  EXPECT_EQ(parse_cfs_quota("100000\n", "100000\n"), 1u);
  EXPECT_EQ(parse_cfs_quota("250000\n", "100000\n"), 3u);
  EXPECT_EQ(parse_cfs_quota("\n", "100000\n"), std::nullopt);
  EXPECT_EQ(parse_cfs_quota("250000\n", "x\n"), std::nullopt);
}

// A fake /proc and /sys: path -> contents; a missing path cannot be read.
struct fake_files {
  std::map<std::string, std::string> files;
  std::optional<unsigned> limit() const {
    return cgroup_cpu_limit([this](const std::string& path) -> std::optional<std::string> {
      auto it = files.find(path);
      if (it == files.end()) return std::nullopt;
      return it->second;
    });
  }
};

constexpr const char* v2_mountinfo =
    "24 30 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw\n"
    "28 24 0:25 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate\n";

TEST(cpu_quota, cgroup2_host_reads_the_process_cgroup) {
  fake_files f{{{"/proc/self/cgroup", "0::/system.slice/dusty.service\n"},
                {"/proc/self/mountinfo", v2_mountinfo},
                {"/sys/fs/cgroup/system.slice/dusty.service/cpu.max", "300000 100000\n"},
                {"/sys/fs/cgroup/system.slice/cpu.max", "max 100000\n"}}};
  EXPECT_EQ(f.limit(), 3u);
}

TEST(cpu_quota, a_parent_limit_binds_its_children) {
  fake_files f{{{"/proc/self/cgroup", "0::/kubepods/pod1/ctr\n"},
                {"/proc/self/mountinfo", v2_mountinfo},
                {"/sys/fs/cgroup/kubepods/pod1/ctr/cpu.max", "max 100000\n"},
                {"/sys/fs/cgroup/kubepods/pod1/cpu.max", "200000 100000\n"},
                {"/sys/fs/cgroup/kubepods/cpu.max", "800000 100000\n"}}};
  EXPECT_EQ(f.limit(), 2u);
}

TEST(cpu_quota, no_limit_anywhere) {
  fake_files f{{{"/proc/self/cgroup", "0::/user.slice\n"},
                {"/proc/self/mountinfo", v2_mountinfo},
                {"/sys/fs/cgroup/user.slice/cpu.max", "max 100000\n"}}};
  EXPECT_EQ(f.limit(), std::nullopt);
}

TEST(cpu_quota, cgroup2_namespace_in_a_container) {
  // With a private cgroup namespace the process sees itself at "/" of the mount.
  fake_files f{{{"/proc/self/cgroup", "0::/\n"},
                {"/proc/self/mountinfo",
                 "700 650 0:25 / /sys/fs/cgroup ro,nosuid,nodev,noexec,relatime - cgroup2 cgroup rw\n"},
                {"/sys/fs/cgroup/cpu.max", "150000 100000\n"}}};
  EXPECT_EQ(f.limit(), 2u);
}

TEST(cpu_quota, cgroup1_mount_root_is_the_container_cgroup) {
  // runc on a v1 host: the cpu hierarchy is mounted with the container's own cgroup as
  // its root, while /proc/self/cgroup still names the full path.
  fake_files f{{{"/proc/self/cgroup",
                 "5:memory:/libpod_parent/libpod-abc\n"
                 "3:cpu,cpuacct:/libpod_parent/libpod-abc\n"
                 "0::/libpod_parent/libpod-abc\n"},
                {"/proc/self/mountinfo",
                 "800 790 0:30 /libpod_parent/libpod-abc /sys/fs/cgroup/cpu,cpuacct ro,nosuid - cgroup cgroup "
                 "rw,cpu,cpuacct\n"
                 "801 790 0:31 /libpod_parent/libpod-abc /sys/fs/cgroup/memory ro,nosuid - cgroup cgroup rw,memory\n"},
                {"/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us", "100000\n"},
                {"/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us", "100000\n"}}};
  EXPECT_EQ(f.limit(), 1u);
}

TEST(cpu_quota, hybrid_layout_takes_the_smaller_of_v1_and_v2) {
  // Hybrid: the cpu controller on v1, an unified v2 tree beside it with no controllers
  // (no cpu.max at all), as on the machine these tests were written on.
  fake_files f{{{"/proc/self/cgroup", "1:cpu:/batch\n4:memory:/batch\n0::/batch\n"},
                {"/proc/self/mountinfo",
                 "30 25 0:26 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
                 "31 25 0:27 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
                 "40 25 0:35 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n"},
                {"/sys/fs/cgroup/cpu/batch/cpu.cfs_quota_us", "350000\n"},
                {"/sys/fs/cgroup/cpu/batch/cpu.cfs_period_us", "100000\n"},
                {"/sys/fs/cgroup/cpu/cpu.cfs_quota_us", "-1\n"},
                {"/sys/fs/cgroup/cpu/cpu.cfs_period_us", "100000\n"}}};
  EXPECT_EQ(f.limit(), 4u);
  f.files["/sys/fs/cgroup/unified/batch/cpu.max"] = "100000 100000\n";
  EXPECT_EQ(f.limit(), 1u);
}

TEST(cpu_quota, cpuacct_alone_is_not_the_cpu_controller) {
  fake_files f{{{"/proc/self/cgroup", "2:cpuacct:/a\n"},
                {"/proc/self/mountinfo", "31 25 0:27 / /sys/fs/cgroup/cpuacct rw - cgroup cgroup rw,cpuacct\n"},
                {"/sys/fs/cgroup/cpuacct/a/cpu.cfs_quota_us", "100000\n"},
                {"/sys/fs/cgroup/cpuacct/a/cpu.cfs_period_us", "100000\n"}}};
  EXPECT_EQ(f.limit(), std::nullopt);
}

TEST(cpu_quota, escaped_mount_point) {
  fake_files f{{{"/proc/self/cgroup", "0::/a\n"},
                {"/proc/self/mountinfo", "28 24 0:25 / /mnt/cg\\040two rw - cgroup2 cgroup2 rw\n"},
                {"/mnt/cg two/a/cpu.max", "200000 100000\n"}}};
  EXPECT_EQ(f.limit(), 2u);
}

TEST(cpu_quota, path_outside_the_namespace_uses_the_mount_point) {
  fake_files f{{{"/proc/self/cgroup", "0::/../../other\n"},
                {"/proc/self/mountinfo", v2_mountinfo},
                {"/sys/fs/cgroup/cpu.max", "100000 100000\n"}}};
  EXPECT_EQ(f.limit(), 1u);
}

TEST(cpu_quota, unreadable_or_garbled_proc_files_give_no_limit) {
  EXPECT_EQ(fake_files{}.limit(), std::nullopt);
  fake_files garbled{{{"/proc/self/cgroup", "nonsense\n\n:::\n"}, {"/proc/self/mountinfo", "x - y\n"}}};
  EXPECT_EQ(garbled.limit(), std::nullopt);
  fake_files no_mount{{{"/proc/self/cgroup", "0::/a\n"}, {"/proc/self/mountinfo", ""}}};
  EXPECT_EQ(no_mount.limit(), std::nullopt);
}

}  // namespace
