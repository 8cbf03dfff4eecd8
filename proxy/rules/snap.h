/* What every worker's connections read and the control API or a SIGHUP
 * reload can change: the rules, and the data the diagnosis judges chains
 * with (the distribution's roots, browsers' distrust, client families).
 * A connection takes the current snapshot when it is accepted and keeps
 * it until it is freed, so it sees one consistent set however the rules
 * change meanwhile; a change publishes a new snapshot and the old one is
 * freed by whoever drops the last reference. A change that says what a
 * live snapshot already says (rules switched back and forth while
 * connections hold the old ones) takes a reference to that snapshot
 * instead of a copy, so held connections cost a pointer, not the rules
 * with their block pages. Snapshots never change once published. The only
 * lock is around taking and dropping references and publishing. */
#ifndef CP_SNAP_H
#define CP_SNAP_H

#include <pthread.h>

#include "diag/policy.h"
#include "diag/roots.h"
#include "rules/rules.h"
#include "diag/who.h"
#include "diag/whosim.h"

typedef struct cp_snap_s cp_snap_t;
typedef struct cp_snap_data_s cp_snap_data_t;
typedef struct cp_snaps_s cp_snaps_t;

/* Loaded at start and by each reload; shared by the snapshots made
 * between two reloads. gen tells results judged with it apart. */
struct cp_snap_data_s {
  int refs;
  unsigned gen;
  cp_roots_t roots;
  cp_distrust_t distrust;
  cp_who_t who;
  cp_whosim_t sim; /* families and the upstream trust store, loaded once
                      per reload (never per connection) */
};

struct cp_snap_s {
  int refs;
  cp_rules_t rules;     /* owned copy */
  cp_snap_data_t *data; /* one reference */
  cp_snap_t *next;      /* borrowed: the next live snapshot (under mu) */
};

struct cp_snaps_s {
  pthread_mutex_t mu;
  cp_snap_t *cur;  /* one reference */
  cp_snap_t *live; /* borrowed: every snapshot still referenced */
  unsigned next_gen;
};

/* Loads the data (roots directory, distrust and client-family files, the
 * path simulator's families and the upstream trust store: upstream_ca,
 * NULL for the system bundle) into a fresh cp_snap_data_t. err says why
 * not. */
int cp_snap_data_load(cp_snap_data_t **out, const char *roots_dir,
                      const char *distrust_path, const char *clients_path,
                      const char *families_path, const char *upstream_ca,
                      char *err, size_t errlen);
/* Starts with rules (copied) and data (taken). */
int cp_snaps_init(cp_snaps_t *s, const cp_rules_t *rules, cp_snap_data_t *data);
void cp_snaps_free(cp_snaps_t *s);
/* A new current snapshot: rules copied; data taken, or NULL to keep the
 * current data (then a live snapshot with equal rules becomes current
 * again, with no copy). On error nothing changes (data is freed). */
int cp_snaps_publish(cp_snaps_t *s, const cp_rules_t *rules,
                     cp_snap_data_t *data);
cp_snap_t *cp_snaps_acquire(cp_snaps_t *s);
void cp_snaps_release(cp_snaps_t *s, cp_snap_t *snap);
/* One more reference to snap, which the caller holds one of; returns it. */
cp_snap_t *cp_snaps_retain(cp_snaps_t *s, cp_snap_t *snap);
/* Snapshots alive (the current one included); for tests and /stats. */
unsigned cp_snaps_count(cp_snaps_t *s);

#endif
