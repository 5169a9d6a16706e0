/* DNS fast path: a UDP socket bound by the shim, drained and answered in batches with
 * recvmmsg/sendmmsg (one syscall per batch instead of one per datagram). Called
 * synchronously from a Deno Worker over long-lived buffers: slot i of `buf` holds
 * datagram i, `addrs` holds its peer as a struct sockaddr_in/in6 in XS_DNS_ADDR bytes. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define XS_DNS_ADDR 32
#define XS_DNS_MAX_BATCH 256

/* Bind a non-blocking UDP socket to host:port; returns the fd or -errno. */
int xs_dns_udp_open(const char *host, int port) {
  struct sockaddr_storage ss;
  socklen_t sl;
  memset(&ss, 0, sizeof ss);
  struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
  struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
  int family;
  if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
    family = AF_INET;
    s4->sin_family = AF_INET;
    s4->sin_port = htons((uint16_t)port);
    sl = sizeof *s4;
  } else if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
    family = AF_INET6;
    s6->sin6_family = AF_INET6;
    s6->sin6_port = htons((uint16_t)port);
    sl = sizeof *s6;
  } else {
    return -EINVAL;
  }
  int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  int one = 1, rcvbuf = 4 << 20;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  if (family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  if (bind(fd, (struct sockaddr *)&ss, sl) < 0) {
    int e = errno;
    close(fd);
    return -e;
  }
  return fd;
}

/* The port the socket is bound to, or -errno. */
int xs_dns_local_port(int fd) {
  struct sockaddr_storage ss;
  socklen_t sl = sizeof ss;
  if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0) return -errno;
  if (ss.ss_family == AF_INET) return ntohs(((struct sockaddr_in *)&ss)->sin_port);
  return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

/* Receive up to `max` datagrams without blocking. Returns how many (0 when none are
 * waiting) or -errno. lens[i] = datagram length, addrs + i*XS_DNS_ADDR = its source. */
int xs_dns_recv_batch(int fd, uint8_t *buf, int slot, int max, int32_t *lens, uint8_t *addrs) {
  struct mmsghdr msgs[XS_DNS_MAX_BATCH];
  struct iovec iov[XS_DNS_MAX_BATCH];
  if (max > XS_DNS_MAX_BATCH) max = XS_DNS_MAX_BATCH;
  for (int i = 0; i < max; i++) {
    iov[i].iov_base = buf + (size_t)i * slot;
    iov[i].iov_len = (size_t)slot;
    memset(&msgs[i].msg_hdr, 0, sizeof msgs[i].msg_hdr);
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
    msgs[i].msg_hdr.msg_name = addrs + (size_t)i * XS_DNS_ADDR;
    msgs[i].msg_hdr.msg_namelen = XS_DNS_ADDR;
  }
  int n = recvmmsg(fd, msgs, (unsigned)max, MSG_DONTWAIT, NULL);
  if (n < 0) return (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) ? 0 : -errno;
  for (int i = 0; i < n; i++) {
    /* A datagram larger than the slot is cut: mark it so the caller ignores it. */
    lens[i] = (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) ? -1 : (int32_t)msgs[i].msg_len;
  }
  return n;
}

/* Send datagram i (buf + i*slot, lens[i] bytes) to addrs + i*XS_DNS_ADDR for i < n.
 * Entries with lens[i] < 0 are skipped. Returns how many were handed to the kernel. */
int xs_dns_send_batch(int fd, uint8_t *buf, int slot, int n, const int32_t *lens, uint8_t *addrs) {
  struct mmsghdr msgs[XS_DNS_MAX_BATCH];
  struct iovec iov[XS_DNS_MAX_BATCH];
  if (n > XS_DNS_MAX_BATCH) n = XS_DNS_MAX_BATCH;
  int m = 0;
  for (int i = 0; i < n; i++) {
    if (lens[i] < 0) continue;
    uint8_t *a = addrs + (size_t)i * XS_DNS_ADDR;
    sa_family_t fam = ((struct sockaddr *)a)->sa_family;
    iov[m].iov_base = buf + (size_t)i * slot;
    iov[m].iov_len = (size_t)lens[i];
    memset(&msgs[m].msg_hdr, 0, sizeof msgs[m].msg_hdr);
    msgs[m].msg_hdr.msg_iov = &iov[m];
    msgs[m].msg_hdr.msg_iovlen = 1;
    msgs[m].msg_hdr.msg_name = a;
    msgs[m].msg_hdr.msg_namelen = fam == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
    m++;
  }
  int sent = 0, tries = 0;
  while (sent < m) {
    int r = sendmmsg(fd, msgs + sent, (unsigned)(m - sent), 0);
    if (r < 0) {
      if ((errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) && tries++ < 100) {
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        poll(&p, 1, 10);
        continue;
      }
      /* This datagram cannot go (e.g. unreachable peer): drop it, keep the rest. */
      sent++;
      continue;
    }
    sent += r;
  }
  return sent;
}

/* Wait until one of fds is readable or timeout_ms passes. Returns >0, 0, or -errno. */
int xs_dns_wait(const int32_t *fds, int nfds, int timeout_ms) {
  struct pollfd p[16];
  if (nfds > 16) nfds = 16;
  for (int i = 0; i < nfds; i++) {
    p[i].fd = fds[i];
    p[i].events = POLLIN;
    p[i].revents = 0;
  }
  int r = poll(p, (nfds_t)nfds, timeout_ms);
  return r < 0 ? (errno == EINTR ? 0 : -errno) : r;
}

int xs_dns_close(int fd) { return close(fd) < 0 ? -errno : 0; }
