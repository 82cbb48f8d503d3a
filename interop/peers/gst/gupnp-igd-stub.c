/* A do-nothing libgupnp-igd-1.0.so.4 for Debian's simple-whip-client (PEERS.md): libnice links
 * gupnp-igd, which pulls in libsoup3 next to whip-client's libsoup2, and libsoup aborts the
 * process ("libsoup2 symbols detected"). libnice handles a NULL UPnP agent (no port mapping),
 * which is what this stub gives it; no UPnP is wanted on a private namespace anyway.
 * Built by interop/install.sh into interop/build/gst/, used through LD_LIBRARY_PATH. */
#include <stddef.h>

unsigned long gupnp_simple_igd_get_type(void) { return 20 << 2; /* G_TYPE_OBJECT */ }
void *gupnp_simple_igd_thread_new(void) { return NULL; }
void gupnp_simple_igd_add_port(void *self, const char *protocol, unsigned external_port, const char *local_ip,
                               unsigned local_port, unsigned lease_duration, const char *description) {}
void gupnp_simple_igd_remove_port(void *self, const char *protocol, unsigned external_port) {}
void gupnp_simple_igd_remove_port_local(void *self, const char *protocol, const char *local_ip, unsigned local_port) {}
