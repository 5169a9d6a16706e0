// The embedded default configuration: what `xlat64 run` uses without --config and what
// `xlat64 config --print-default` prints. Every key is shown with its default value.

export const DEFAULT_CONFIG_TOML =
  `# xlat64 configuration (the embedded default; every key shows its default value).
# Keys are kebab-case; unknown keys are errors. Check a file with: xlat64 check --config FILE

mode = "nat64"                 # "siit" | "nat64" | "clat" | "none" (no translator: DNS only)

[tun]
name = "xlat64"                # TUN interface name (at most 15 characters)
mtu = 65535                    # TUN MTU (1280-65535)
workers = 1                    # data-plane workers, one TUN queue each
manage = true                  # xlat64 adds its own addresses and routes

[translator]                   # RFC 7915 / 6052 / 7757 / 6791
pool6 = "64:ff9b::/96"         # RFC 6052 prefix (/32 /40 /48 /56 /64 /96); omit for EAM-only SIIT
lowest-ipv6-mtu = 1280         # IPv4 packets without DF are fragmented to fit this (RFC 7915 4)
ipv4-mtu = 1500                # next-hop MTU on the IPv4 side (Fragmentation Needed)
ipv6-mtu = 1500                # next-hop MTU on the IPv6 side (Packet Too Big)
mtu-plateaus = [65535, 32000, 17914, 8166, 4352, 2002, 1492, 1006, 508, 296, 68]  # RFC 1191 7
wkp-strict = true              # RFC 6052 3.1: no non-global IPv4 under 64:ff9b::/96
amend-udp-checksum-zero = false  # RFC 7915 4.5: compute zero IPv4 UDP checksums
reset-traffic-class = false    # RFC 7915 4.1: IPv4->IPv6 traffic class 0 instead of the TOS
reset-tos = false              # RFC 7915 5.1: IPv6->IPv4 TOS = new-tos instead of the traffic class
new-tos = 0                    # the TOS used when reset-tos is true
rfc6791v4-prefix = "192.0.0.8/32"  # RFC 6791: ICMPv4 error source for untranslatable IPv6 ("" = none)
rfc6791v6-prefix = ""          # source of ICMPv6 errors from untranslatable IPv4 ("" = none)
rfc6791v4-randomize = false    # pick RFC 6791 addresses at random, not by hash of the packet
eam-hairpin-mode = "intrinsic" # RFC 7757 4.2: "off" | "simple" | "intrinsic"
denylist4 = []                 # IPv4 prefixes never translated (besides 0/8, 127/8, 224/4, ...)
# [[translator.eam]]           # RFC 7757 Explicit Address Mapping (IPv4 suffix <= IPv6 suffix)
# ipv4 = "198.51.100.0/24"
# ipv6 = "2001:db8:1::/120"

[nat64]                        # RFC 6146 / 6888
udp-timeout = 300              # seconds (RFC 6146 3.5.1: at least 120)
tcp-est-timeout = 7440         # seconds (RFC 6146 3.5.2.2: at least 7440)
tcp-trans-timeout = 240        # seconds (RFC 6146 3.5.2.2: at least 240)
tcp-incoming-syn-timeout = 6   # seconds an inbound SYN waits for a BIB entry (RFC 6146 3.5.2.2)
icmp-timeout = 60              # seconds (RFC 6146 3.5.3: at least 60)
max-sessions-per-host = 0      # RFC 6888 REQ-4 per-IPv6-host session limit; 0 = none
max-ports-per-host = 0         # RFC 6888 REQ-3 dynamic BIB entries (ports) per IPv6 host; 0 = none
address-dependent-filtering = false  # RFC 6146 3.5.2.2; false = endpoint-independent
drop-externally-initiated-tcp = false  # drop inbound SYNs with no BIB entry at once
log-sessions = false           # RFC 6888 REQ-12: log each BIB/session creation and deletion
snapshot-file = ""             # keep BIB + sessions across restarts, e.g. "/var/lib/xlat64/nat64.snap"
snapshot-interval = 60         # seconds between snapshots (one is also written on SIGTERM)

# Placeholder pool: a private /30 that xlat64 routes to its TUN (manage = true). Replace it
# with public IPv4 addresses routed to this host, or NAT44 it on the way out.
[[nat64.pool4]]
prefix = "192.168.255.0/30"
ports = "61001-65535"          # or ICMP identifiers; a single port "5000" also works
protocols = ["tcp", "udp", "icmp"]
# [[nat64.bib]]                # static BIB entry (the IPv4 address must be in pool4)
# protocol = "tcp"
# ipv4 = "192.168.255.1#2000"
# ipv6 = "2001:db8::5#2000"

[clat]                         # RFC 6877 (mode = "clat")
ipv4-address = "192.0.0.1"     # the CLAT's IPv4 address (RFC 7335 192.0.0.0/29)
# translation-prefix = "2001:db8:c1a7::/64"  # dedicated /64 (RFC 6877 6.3); omit: single address + NAT44
# ipv6-address = "2001:db8:a::c1a7"          # single-address mode; "auto": a stable address
#                                            # in the uplink's /64 that the host does not use
plat-prefix = "discover"       # or a prefix like "64:ff9b::/96"
lan = []                       # dedicated mode: IPv4 LAN prefixes mapped into the /64; [] = the /29 of ipv4-address
route-metric = 2048            # IPv4 default route via the CLAT; native IPv4 routes win
mss-clamp = 0                  # TCP MSS of translated SYNs; 0 = translator.ipv6-mtu - 60
dynamic-eam = false            # RFC 8683 4.9: map A -> AAAA of dual-stack names seen by the DNS proxy
dynamic-eam-ttl = 300          # seconds a dynamic mapping lives at most

[discovery]
methods = ["static", "pref64", "pcp", "rfc7050"]
interface = ""                 # where RAs are heard (PREF64); "" = the default route's interface
pcp-server = ""                # "" = the default router
announce-pref64 = []           # PLAT: interfaces to send RAs with PREF64 on (RFC 8781)
pref64-lifetime = 1800         # seconds, a multiple of 8, at most 65528 (RFC 8781 4)
trusted-domains = []           # RFC 7050 3.1 validation: NAT64 domains trusted for ipv4only.arpa
pcp-client-address = ""        # our address in PCP requests; "" = a global IPv6 address of ours

[dns]                          # proxy, RFC 5625; listen = [] turns it off
listen = ["[::1]:53", "127.0.0.1:53"]
upstream = ["resolv.conf"]     # "resolv.conf" or addresses like "192.0.2.53", "[2001:db8::53]:53"
allow = ["::1/128", "127.0.0.0/8"]  # others get REFUSED; "any" and "!prefix" work too
upstream-timeout-ms = 1500     # per upstream attempt
upstream-attempts = 2          # attempts per upstream before failing over to the next
cache-size = 10000             # cached DNS messages; 0 turns the cache off
rate-limit = 0                 # per-client queries per second; 0 = no limit
rate-burst = 0                 # token-bucket burst for rate-limit
tcp-idle-timeout-ms = 10000    # idle DNS-over-TCP connections close (RFC 7766 6.2.3)
fast-path = true               # serve UDP via the shim's recvmmsg/sendmmsg in a worker (cache hits)
aaaa-only-upstream = false     # clat: upstream is a DNS64; answer A from its synthesized AAAA
                               # (RFC 8683 3.1.2), real A query only when none comes back

[dns64]                        # RFC 6147
# prefixes = ["64:ff9b::/96"]  # omitted: translator.pool6; [] turns DNS64 off (plain proxy)
clients = ["any"]              # which clients get synthesized AAAA
mapped = ["!10.0.0.0/8", "!172.16.0.0/12", "!192.168.0.0/16", "any"]  # which A records map
exclude = ["::ffff:0:0/96"]    # AAAA in these prefixes count as absent (RFC 6147 5.1.4)
exclude-domains = []           # names (and names below them) never synthesized
break-dnssec = false           # synthesize even when the client set DO (RFC 6147 5.5)

[validator]                    # RFC 4035, RFC 8683 4.1.3
enabled = false
trust-anchors = "/usr/share/dns/root.ds"
clock-skew = 300               # seconds of tolerance on signature validity windows
nsec3-max-iterations = 150     # RFC 9276 3.2: more NSEC3 iterations -> insecure
auto-trust-anchor-file = ""    # RFC 5011 state, e.g. "/var/lib/xlat64/root.key"; "" = off

[pcp]                          # RFC 6887 / 7225 server (nat64 mode)
listen = []                    # e.g. ["[2001:db8::1]:5351"]
allow = []                     # IPv6 client prefixes served, e.g. ["2001:db8::/32"]; others: NOT_AUTHORIZED
min-lifetime = 120             # seconds: shortest MAP lifetime granted (RFC 6887 15)
max-lifetime = 86400           # seconds: longest MAP lifetime granted

[status]
listen = "127.0.0.1:8064"      # /status, /metrics, /healthz; "" turns it off

[log]
level = "info"                 # trace | debug | info | warning | error | fatal
format = "text"                # text | json (JSON lines)
`;
