// xlat64 shim: the few syscalls Deno cannot make itself (TUN, batched read/write,
// raw ICMPv6, capabilities). Every function returns >= 0 on success or -errno.
// No dependencies beyond libc, so `cc -O2 -shared` is the whole build.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <dirent.h>
#include <stdlib.h>
#include <unistd.h>

// ---------------------------------------------------------------- TUN

// name: in/out buffer of at least IFNAMSIZ bytes; the kernel's chosen name is written
// back (an empty or "%d" name lets the kernel pick).
int xs_tun_open(char *name, int multiqueue) {
  int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return -errno;
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI | (multiqueue ? IFF_MULTI_QUEUE : 0);
  if (name) strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
    int e = errno;
    close(fd);
    return -e;
  }
  if (name) memcpy(name, ifr.ifr_name, IFNAMSIZ);
  return fd;
}

int xs_close(int fd) { return close(fd) < 0 ? -errno : 0; }

static int ifreq_ioctl(const char *name, unsigned long req, struct ifreq *ifr) {
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return -errno;
  strncpy(ifr->ifr_name, name, IFNAMSIZ - 1);
  int r = ioctl(s, req, ifr) < 0 ? -errno : 0;
  close(s);
  return r;
}

int xs_tun_set_mtu(const char *name, int mtu) {
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_mtu = mtu;
  return ifreq_ioctl(name, SIOCSIFMTU, &ifr);
}

int xs_link_up(const char *name) {
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  int r = ifreq_ioctl(name, SIOCGIFFLAGS, &ifr);
  if (r < 0) return r;
  if (ifr.ifr_flags & IFF_UP) return 0;
  ifr.ifr_flags |= IFF_UP;
  return ifreq_ioctl(name, SIOCSIFFLAGS, &ifr);
}

int xs_if_index(const char *name) {
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  int r = ifreq_ioctl(name, SIOCGIFINDEX, &ifr);
  return r < 0 ? r : ifr.ifr_ifindex;
}

// Whether the last batch read from an fd ended on an empty queue (EAGAIN). Then the next
// call polls first instead of spending a read on a queue that is most likely still empty.
#define XS_MAX_FD 4096
static unsigned char drained[XS_MAX_FD];

// Packets land in fixed slots buf[i*slot_size], lengths in lens[i]. Polls only when the
// queue is (or was just seen) empty, then drains until EAGAIN or nslots: one poll per
// idle period, never one per packet (DESIGN principle 4). Returns 0 on timeout.
int xs_read_batch(int fd, uint8_t *buf, int slot_size, int nslots, int32_t *lens,
                  int timeout_ms) {
  int n = 0, polled = 0;
  if (fd >= 0 && fd < XS_MAX_FD && drained[fd]) {
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int pr = poll(&p, 1, timeout_ms);
    if (pr < 0) return errno == EINTR ? 0 : -errno;
    if (pr == 0) return 0;
    if (p.revents & POLLNVAL) return -EBADF;
    polled = 1;
  }
  while (n < nslots) {
    ssize_t r = read(fd, buf + (size_t)n * slot_size, (size_t)slot_size);
    if (r >= 0) {
      lens[n++] = (int32_t)r;
      continue;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN) {
      if (fd >= 0 && fd < XS_MAX_FD) drained[fd] = 1;
      if (n > 0 || polled) return n;
      struct pollfd p = {.fd = fd, .events = POLLIN};
      int pr = poll(&p, 1, timeout_ms);
      if (pr < 0) return errno == EINTR ? 0 : -errno;
      if (pr == 0) return 0;
      if (p.revents & POLLNVAL) return -EBADF;
      polled = 1;
      continue;
    }
    // Deliver what we have; the error repeats on the next call.
    if (n > 0) break;
    return -errno;
  }
  if (fd >= 0 && fd < XS_MAX_FD) drained[fd] = 0;
  return n;
}

// Writes lens[0..count) from fixed slots. A packet the kernel refuses (or a queue still
// full after brief retries) is skipped and counted by the caller as count - written.
// Only errors that make the fd itself unusable return -errno.
int xs_write_batch(int fd, const uint8_t *buf, int slot_size, const int32_t *lens,
                   int count) {
  int written = 0;
  for (int i = 0; i < count; i++) {
    int retries = 0;
    for (;;) {
      ssize_t w = write(fd, buf + (size_t)i * slot_size, (size_t)lens[i]);
      if (w >= 0) {
        written++;
        break;
      }
      if (errno == EINTR) continue;
      if (errno == EAGAIN && retries++ < 4) {
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        poll(&p, 1, 1);
        continue;
      }
      if (errno == EBADF || errno == EFAULT || errno == EIO) return -errno;
      break;
    }
  }
  return written;
}

// ---------------------------------------------------------------- raw ICMPv6 (RA/RS)

// Raw ICMPv6 socket that only hears Router Solicitations and Advertisements, bound to
// ifname when given. Hop limit 255 on send (RFC 4861 6.1: receivers drop anything else).
int xs_icmp6_open(const char *ifname) {
  int fd = socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, IPPROTO_ICMPV6);
  if (fd < 0) return -errno;
  struct icmp6_filter f;
  ICMP6_FILTER_SETBLOCKALL(&f);
  ICMP6_FILTER_SETPASS(ND_ROUTER_SOLICIT, &f);
  ICMP6_FILTER_SETPASS(ND_ROUTER_ADVERT, &f);
  int hops = 255, on = 1;
  if (setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &f, sizeof f) < 0 ||
      setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &hops, sizeof hops) < 0 ||
      setsockopt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &hops, sizeof hops) < 0 ||
      setsockopt(fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &on, sizeof on) < 0 ||
      setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on, sizeof on) < 0)
    goto fail;
  if (ifname && ifname[0]) {
    if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, ifname, strlen(ifname)) < 0) goto fail;
    // All-routers group, so Router Solicitations reach us even without forwarding on.
    struct ipv6_mreq m;
    memset(&m, 0, sizeof m);
    m.ipv6mr_multiaddr.s6_addr[0] = 0xff;
    m.ipv6mr_multiaddr.s6_addr[1] = 0x02;
    m.ipv6mr_multiaddr.s6_addr[15] = 0x02;
    int idx = xs_if_index(ifname);
    if (idx < 0) {
      close(fd);
      return idx;
    }
    m.ipv6mr_interface = (unsigned)idx;
    if (setsockopt(fd, IPPROTO_IPV6, IPV6_ADD_MEMBERSHIP, &m, sizeof m) < 0 &&
        errno != EADDRINUSE)
      goto fail;
  }
  return fd;
fail: {
  int e = errno;
  close(fd);
  return -e;
}
}

// meta_out (24 bytes): source address [16], arrival ifindex (u32), hop limit (i32, -1 if
// unknown). Returns the ICMPv6 message length, 0 on timeout.
int xs_icmp6_recv(int fd, uint8_t *buf, int len, uint8_t *meta_out, int timeout_ms) {
  struct pollfd p = {.fd = fd, .events = POLLIN};
  int pr = poll(&p, 1, timeout_ms);
  if (pr < 0) return errno == EINTR ? 0 : -errno;
  if (pr == 0) return 0;
  struct sockaddr_in6 src;
  char cbuf[256];
  struct iovec iov = {.iov_base = buf, .iov_len = (size_t)len};
  struct msghdr mh = {.msg_name = &src,
                      .msg_namelen = sizeof src,
                      .msg_iov = &iov,
                      .msg_iovlen = 1,
                      .msg_control = cbuf,
                      .msg_controllen = sizeof cbuf};
  ssize_t r = recvmsg(fd, &mh, 0);
  if (r < 0) return errno == EAGAIN || errno == EINTR ? 0 : -errno;
  uint32_t ifindex = src.sin6_scope_id;
  int32_t hoplimit = -1;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
    if (c->cmsg_level != IPPROTO_IPV6) continue;
    if (c->cmsg_type == IPV6_HOPLIMIT) memcpy(&hoplimit, CMSG_DATA(c), sizeof hoplimit);
    if (c->cmsg_type == IPV6_PKTINFO) {
      struct in6_pktinfo pi;
      memcpy(&pi, CMSG_DATA(c), sizeof pi);
      ifindex = pi.ipi6_ifindex;
    }
  }
  memcpy(meta_out, &src.sin6_addr, 16);
  memcpy(meta_out + 16, &ifindex, 4);
  memcpy(meta_out + 20, &hoplimit, 4);
  return (int)r;
}

// dst: 16 bytes. The kernel fills in the ICMPv6 checksum for raw ICMPv6 sockets.
int xs_icmp6_send(int fd, const uint8_t *buf, int len, const uint8_t *dst, int ifindex) {
  struct sockaddr_in6 to;
  memset(&to, 0, sizeof to);
  to.sin6_family = AF_INET6;
  memcpy(&to.sin6_addr, dst, 16);
  to.sin6_scope_id = (uint32_t)ifindex;
  char cbuf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
  memset(cbuf, 0, sizeof cbuf);
  struct iovec iov = {.iov_base = (void *)buf, .iov_len = (size_t)len};
  struct msghdr mh = {.msg_name = &to, .msg_namelen = sizeof to, .msg_iov = &iov, .msg_iovlen = 1};
  if (ifindex > 0) {
    mh.msg_control = cbuf;
    mh.msg_controllen = sizeof cbuf;
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = IPPROTO_IPV6;
    c->cmsg_type = IPV6_PKTINFO;
    c->cmsg_len = CMSG_LEN(sizeof(struct in6_pktinfo));
    struct in6_pktinfo pi;
    memset(&pi, 0, sizeof pi);
    pi.ipi6_ifindex = (unsigned)ifindex;
    memcpy(CMSG_DATA(c), &pi, sizeof pi);
  }
  ssize_t r = sendmsg(fd, &mh, 0);
  return r < 0 ? -errno : (int)r;
}

// ---------------------------------------------------------------- capabilities

// Capabilities are per thread on Linux, and Deno runs many threads (V8, tokio, workers),
// so a capset on one thread alone leaves the others privileged. Like libpsx, we signal
// every thread in /proc/self/task and let each one apply the same sets to itself.
static struct __user_cap_data_struct cap_target[2];
static volatile uint64_t cap_keep_mask;
static volatile int cap_done, cap_fail;

static int apply_caps_self(void) {
  // Bounding set first (needs CAP_SETPCAP, still held): children exec'd as root (ip)
  // cannot regain what is dropped here.
  for (int c = 0; c <= 63; c++) {
    if (cap_keep_mask & (1ull << c)) continue;
    if (prctl(PR_CAPBSET_READ, c, 0, 0, 0) == 1 && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0)
      return -errno;
  }
  struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
  struct __user_cap_data_struct d[2];
  memcpy(d, cap_target, sizeof d);
  if (syscall(SYS_capset, &h, d) < 0) return -errno;
  // Ambient caps let a non-root child keep CAP_NET_ADMIN; clear them otherwise.
  prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  for (int c = 0; c <= 63; c++)
    if (cap_keep_mask & (1ull << c)) prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0);
  return 0;
}

static void cap_signal_handler(int sig) {
  (void)sig;
  int saved = errno;
  if (apply_caps_self() < 0) __atomic_add_fetch(&cap_fail, 1, __ATOMIC_SEQ_CST);
  __atomic_add_fetch(&cap_done, 1, __ATOMIC_SEQ_CST);
  errno = saved;
}

// Keeps only the capabilities whose bits are set in keep_mask (1 << CAP_NET_ADMIN, ...)
// in the permitted, effective, inheritable, ambient and bounding sets; drops every other.
// Returns the number of threads changed or -errno.
int xs_drop_caps(uint64_t keep_mask) {
  memset(cap_target, 0, sizeof cap_target);
  cap_keep_mask = keep_mask;
  for (int c = 0; c <= 63; c++) {
    if (!(keep_mask & (1ull << c))) continue;
    uint32_t bit = 1u << (c % 32);
    cap_target[c / 32].effective |= bit;
    cap_target[c / 32].permitted |= bit;
    cap_target[c / 32].inheritable |= bit;
  }
  int sig = SIGRTMIN + 7;
  // The handler stays installed: a late delivery after our timeout must not hit the
  // default action (terminate) of a real-time signal.
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = cap_signal_handler;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  if (sigaction(sig, &sa, NULL) < 0) return -errno;
  cap_done = 0;
  cap_fail = 0;
  pid_t self = (pid_t)syscall(SYS_gettid);
  pid_t pid = getpid();
  int sent = 0;
  DIR *dir = opendir("/proc/self/task");
  if (!dir) return -errno;
  struct dirent *de;
  while ((de = readdir(dir))) {
    if (de->d_name[0] == '.') continue;
    pid_t tid = (pid_t)atoi(de->d_name);
    if (tid == self) continue;
    if (syscall(SYS_tgkill, pid, tid, sig) == 0) sent++;
  }
  closedir(dir);
  // Wait up to ~2 s for every thread to run the handler.
  struct timespec ts = {0, 1000000};
  for (int i = 0; i < 2000 && __atomic_load_n(&cap_done, __ATOMIC_SEQ_CST) < sent; i++)
    nanosleep(&ts, NULL);
  int mine = apply_caps_self();
  if (mine < 0) return mine;
  if (__atomic_load_n(&cap_fail, __ATOMIC_SEQ_CST) > 0) return -EPERM;
  if (__atomic_load_n(&cap_done, __ATOMIC_SEQ_CST) < sent) return -ETIMEDOUT;
  return sent + 1;
}

// ---------------------------------------------------------------- errors

const char *xs_strerror(int err) { return strerror(err < 0 ? -err : err); }
