#include "rules/snap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"


static void data_free(cp_snap_data_t *d) {
  cp_roots_free(&d->roots);
  cp_distrust_free(&d->distrust);
  cp_who_free(&d->who);
  cp_whosim_free(&d->sim);
  free(d);
}


int cp_snap_data_load(cp_snap_data_t **out, const char *roots_dir,
                      const char *distrust_path, const char *clients_path,
                      const char *families_path, const char *upstream_ca,
                      char *err, size_t errlen) {
  cp_snap_data_t *d = calloc(1, sizeof(*d));

  *out = NULL;
  if (d == NULL || cp_roots_load(&d->roots, roots_dir) != 0) {
    free(d);
    return cp_errf(err, errlen, CP_ENOMEM, "out of memory");
  }
  if (cp_distrust_load(&d->distrust, distrust_path, err, errlen) != 0 ||
      cp_who_load(&d->who, clients_path, err, errlen) != 0 ||
      cp_whosim_load(&d->sim, families_path, upstream_ca, err, errlen) != 0) {
    data_free(d);
    return CP_ECONFIG;
  }
  d->refs = 1;
  *out = d;
  return 0;
}


/* Called with the lock held (or before any other thread can see s). */
static void drop(cp_snaps_t *s, cp_snap_t *snap) {
  cp_snap_t **p;

  if (--snap->refs > 0) {
    return;
  }
  for (p = &s->live; *p != NULL; p = &(*p)->next) {
    if (*p == snap) {
      *p = snap->next;
      break;
    }
  }
  if (--snap->data->refs == 0) {
    data_free(snap->data);
  }
  cp_rules_free(&snap->rules);
  free(snap);
}


int cp_snaps_init(cp_snaps_t *s, const cp_rules_t *rules,
                  cp_snap_data_t *data) {
  memset(s, 0, sizeof(*s));
  if (pthread_mutex_init(&s->mu, NULL) != 0) {
    data_free(data);
    return CP_ENOMEM;
  }
  s->cur = calloc(1, sizeof(*s->cur));
  if (s->cur == NULL || cp_rules_copy(&s->cur->rules, rules) != 0) {
    free(s->cur);
    s->cur = NULL;
    data_free(data);
    return CP_ENOMEM;
  }
  data->gen = ++s->next_gen;
  s->cur->data = data;
  s->cur->refs = 1;
  s->live = s->cur;
  return 0;
}


void cp_snaps_free(cp_snaps_t *s) {
  if (s->cur != NULL) {
    drop(s, s->cur);
    s->cur = NULL;
    pthread_mutex_destroy(&s->mu);
  }
}


int cp_snaps_publish(cp_snaps_t *s, const cp_rules_t *rules,
                     cp_snap_data_t *data) {
  cp_snap_t *fresh = calloc(1, sizeof(*fresh));
  cp_snap_t *same = NULL;

  if (fresh == NULL || cp_rules_copy(&fresh->rules, rules) != 0) {
    free(fresh);
    if (data != NULL) {
      data_free(data);
    }
    return CP_ENOMEM;
  }
  fresh->refs = 1;
  pthread_mutex_lock(&s->mu);
  if (data == NULL) {
    /* The copy was made outside the lock; when a live snapshot already
     * says the same, it is current again and the copy goes. */
    for (same = s->live; same != NULL; same = same->next) {
      if (same->data == s->cur->data &&
          cp_rules_equal(&same->rules, &fresh->rules)) {
        break;
      }
    }
  }
  if (same != NULL) {
    same->refs++;
    drop(s, s->cur);
    s->cur = same;
    pthread_mutex_unlock(&s->mu);
    cp_rules_free(&fresh->rules);
    free(fresh);
    return 0;
  }
  if (data != NULL) {
    data->gen = ++s->next_gen;
    fresh->data = data;
  } else {
    fresh->data = s->cur->data;
    fresh->data->refs++;
  }
  fresh->next = s->live;
  s->live = fresh;
  drop(s, s->cur);
  s->cur = fresh;
  pthread_mutex_unlock(&s->mu);
  return 0;
}


cp_snap_t *cp_snaps_acquire(cp_snaps_t *s) {
  cp_snap_t *snap;

  pthread_mutex_lock(&s->mu);
  snap = s->cur;
  snap->refs++;
  pthread_mutex_unlock(&s->mu);
  return snap;
}


void cp_snaps_release(cp_snaps_t *s, cp_snap_t *snap) {
  if (snap == NULL) {
    return;
  }
  pthread_mutex_lock(&s->mu);
  drop(s, snap);
  pthread_mutex_unlock(&s->mu);
}


cp_snap_t *cp_snaps_retain(cp_snaps_t *s, cp_snap_t *snap) {
  pthread_mutex_lock(&s->mu);
  snap->refs++;
  pthread_mutex_unlock(&s->mu);
  return snap;
}


unsigned cp_snaps_count(cp_snaps_t *s) {
  const cp_snap_t *p;
  unsigned n = 0;

  pthread_mutex_lock(&s->mu);
  for (p = s->live; p != NULL; p = p->next) {
    n++;
  }
  pthread_mutex_unlock(&s->mu);
  return n;
}
