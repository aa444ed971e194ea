/*
 * webhooks.c — webhook registry, delivery queue, the libcurl worker and
 * the /v2/webhooks routes (webhooks.h).
 */
#include "webhooks.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>

#include <curl/curl.h>
#include <sodium.h>
#include <jt/base58.h>

#include "config.h"
#include "events.h"
#include "hook.h"
#include "http.h"
#include "dlist.h"
#include "map.h"
#include "routes.h"
#include "srv.h"
#include "txbuild.h"

#define KEY_MAX (GW_HOOK_ID_LEN + 1 + GW_EVENT_ID_MAX)
/* Dead letters listed by GET /v2/webhooks (the newest), and by
 * GET /v2/webhooks/{id}/dead. */
#define DEAD_LIST 100
#define DEAD_PAGE 200
/* Dead letters made owed again by one POST /v2/webhooks/{id}/dead/retry
 * (held in memory and written in one batch), and the most its ?limit= may
 * ask; the answer says when more are left for the next call. */
#define RETRY_MAX 1000

/* A delivery owed: the record's state lives here while the daemon runs
 * (the store's copy is rewritten after each attempt); the body is read
 * from the store when an attempt starts. */
typedef struct owed {
    char key[KEY_MAX];
    gw_delivery d; /* body NULL */
    bool inflight;
    bool orphan; /* its webhook was deleted during the attempt */
    gw_dnode node; /* in the queue, oldest first */
} owed;
#define OWED(n) GW_DLIST_ENTRY(n, owed, node)

/* A dead letter kept, in the order the deliveries died. */
typedef struct deadent {
    char key[KEY_MAX];
    uint64_t at; /* its last attempt */
    gw_dnode node;
} deadent;
#define DEADENT(n) GW_DLIST_ENTRY(n, deadent, node)

/* One attempt, handed to the worker and back. */
typedef struct job {
    struct job *next;
    gw_webhooks *wh;
    char key[KEY_MAX];
    char *url;
    char *body; /* as sent: its memos opened */
    size_t len;
    char *stored; /* as the store keeps it (memos sealed); NULL: body */
    size_t stored_len;
    struct curl_slist *hdrs;
    CURL *easy;
    long status;
    CURLcode rc;
    char err[CURL_ERROR_SIZE];
} job;

struct gw_webhooks {
    gw *g;
    gw_webhook *hooks;
    size_t n_hooks;
    /* Deliveries owed, oldest first, and by key: finding, adding and
     * removing one costs the same with a million owed as with ten (an
     * endpoint down for hours leaves that many). */
    gw_dlist owed;
    gw_map *owed_by_key;
    size_t n_owed;
    /* Dead letters, oldest first, and by key: past max_dead_letters the
     * oldest is deleted with the batch that adds a new one. */
    gw_dlist dead;
    gw_map *dead_by_key;
    size_t n_dead;
    /* A write about dead letters failed: the next tick reads the list
     * again from the store (set by the store's writer thread). */
    atomic_bool dead_resync;
    /* Batches that change dead letters, handed to the store's writer and
     * not yet done. The list is read again only when none is: the store
     * then holds every change the list already shows (the writer keeps
     * the order), so the list read back loses none and revives none. */
    atomic_uint dead_writes;
    owed **staged;
    size_t n_staged, cap_staged;
    size_t inflight;
    bool stopping;
    gw_webhooks_stats st;
    /* the worker */
    pthread_t thread;
    bool started;
    pthread_mutex_t mu;
    job *incoming; /* LIFO under mu; the worker takes all */
    bool quit;     /* under mu */
    CURLM *multi;
};

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void job_free(job *j)
{
    if (!j)
        return;
    if (j->easy)
        curl_easy_cleanup(j->easy);
    curl_slist_free_all(j->hdrs);
    free(j->url);
    if (j->stored) {
        sodium_memzero(j->body, j->len); /* opened memos: not left in freed memory */
        free(j->stored);
    }
    free(j->body);
    free(j);
}

/* ------------------------------------------------------------ the worker */

static size_t discard(char *p, size_t size, size_t n, void *ctx)
{
    (void)p;
    (void)ctx;
    return size * n; /* the receiver's answer is not kept, only its status */
}

static void on_result_loop(void *ctx);

static void *worker(void *arg)
{
    gw_webhooks *wh = arg;
    (void)prctl(PR_SET_NAME, "jt-gw-hooks", 0, 0, 0); /* ps -L, top -H */
    job *active = NULL; /* added to the multi handle (the worker's own list) */
    for (;;) {
        pthread_mutex_lock(&wh->mu);
        job *in = wh->incoming;
        wh->incoming = NULL;
        bool quit = wh->quit;
        pthread_mutex_unlock(&wh->mu);
        if (quit) {
            while (in) {
                job *n = in->next;
                job_free(in);
                in = n;
            }
            break;
        }
        while (in) {
            job *j = in;
            in = in->next;
            j->next = NULL;
            if (curl_multi_add_handle(wh->multi, j->easy) != CURLM_OK) {
                j->rc = CURLE_FAILED_INIT;
                snprintf(j->err, sizeof j->err, "could not start the request");
                if (srv_net_post(wh->g->net, on_result_loop, j) != 0)
                    job_free(j);
                continue;
            }
            j->next = active;
            active = j;
        }
        int running = 0;
        curl_multi_perform(wh->multi, &running);
        CURLMsg *m;
        int left;
        while ((m = curl_multi_info_read(wh->multi, &left))) {
            if (m->msg != CURLMSG_DONE)
                continue;
            job *j = NULL;
            curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&j);
            j->rc = m->data.result;
            curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &j->status);
            curl_multi_remove_handle(wh->multi, m->easy_handle);
            curl_easy_cleanup(j->easy);
            j->easy = NULL;
            for (job **pp = &active; *pp; pp = &(*pp)->next)
                if (*pp == j) {
                    *pp = j->next;
                    break;
                }
            j->next = NULL;
            if (srv_net_post(wh->g->net, on_result_loop, j) != 0)
                job_free(j);
        }
        curl_multi_poll(wh->multi, NULL, 0, 1000, NULL);
    }
    /* Attempts under way are abandoned: their deliveries stay owed. */
    while (active) {
        job *j = active;
        active = j->next;
        curl_multi_remove_handle(wh->multi, j->easy);
        job_free(j);
    }
    return NULL;
}

static int submit_job(gw_webhooks *wh, job *j)
{
    if (!(j->easy = curl_easy_init()))
        return -1;
    CURL *e = j->easy;
    curl_easy_setopt(e, CURLOPT_URL, j->url);
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, j->body);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)j->len);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, j->hdrs);
    curl_easy_setopt(e, CURLOPT_TIMEOUT, (long)wh->g->cfg->wh_timeout_s);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, (long)wh->g->cfg->wh_timeout_s);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, j->err);
    curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)j);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "jt-gateway");
    pthread_mutex_lock(&wh->mu);
    j->next = wh->incoming;
    wh->incoming = j;
    pthread_mutex_unlock(&wh->mu);
    curl_multi_wakeup(wh->multi);
    return 0;
}

/* ------------------------------------------------------------ the queue */

static gw_webhook *hook_by_id(gw_webhooks *wh, const char *id)
{
    for (size_t i = 0; i < wh->n_hooks; i++)
        if (!strcmp(wh->hooks[i].id, id))
            return &wh->hooks[i];
    return NULL;
}

static int owed_add(gw_webhooks *wh, owed *o)
{
    if (gw_map_put(wh->owed_by_key, o->key, strlen(o->key), o))
        return -1;
    gw_webhook *h = hook_by_id(wh, o->d.hook);
    if (h)
        h->owed++;
    gw_dlist_push_back(&wh->owed, &o->node);
    wh->n_owed++;
    return 0;
}

static owed *owed_find(gw_webhooks *wh, const char *key)
{
    return gw_map_get(wh->owed_by_key, key, strlen(key));
}

/* Removes o from the queue and frees it. */
static void owed_remove(gw_webhooks *wh, owed *o)
{
    gw_map_del(wh->owed_by_key, o->key, strlen(o->key));
    gw_webhook *h = hook_by_id(wh, o->d.hook);
    if (h && h->owed)
        h->owed--;
    gw_dlist_unlink(&wh->owed, &o->node);
    wh->n_owed--;
    free(o);
}

static void dead_forget(gw_webhooks *wh, const char *key);

static int dead_add(gw_webhooks *wh, const char *key, uint64_t at)
{
    dead_forget(wh, key); /* never listed twice */
    deadent *e = calloc(1, sizeof *e);
    if (!e)
        return -1;
    snprintf(e->key, sizeof e->key, "%s", key);
    e->at = at;
    if (gw_map_put(wh->dead_by_key, e->key, strlen(e->key), e)) {
        free(e);
        return -1;
    }
    gw_dlist_push_back(&wh->dead, &e->node);
    wh->n_dead++;
    return 0;
}

static void dead_unlink(gw_webhooks *wh, deadent *e)
{
    gw_map_del(wh->dead_by_key, e->key, strlen(e->key));
    gw_dlist_unlink(&wh->dead, &e->node);
    wh->n_dead--;
    free(e);
}

/* A dead letter leaves (made owed again, or its webhook deleted). */
static void dead_forget(gw_webhooks *wh, const char *key)
{
    deadent *e = gw_map_get(wh->dead_by_key, key, strlen(key));
    if (e)
        dead_unlink(wh, e);
}

static void dead_reload(gw_webhooks *wh);

/* On the loop, posted when the last change to the dead letters on its way
 * to the store is done while a reload waits: the first moment at which the
 * store and the list agree, which a steady stream of dead letters could
 * keep from ever falling on a tick. */
static void dead_resync_now(void *ctx)
{
    gw_webhooks *wh = ctx;
    if (!wh->stopping && atomic_load(&wh->dead_writes) == 0 &&
        atomic_exchange(&wh->dead_resync, false))
        dead_reload(wh);
}

/* The store's writer thread: a batch counted in dead_writes is done. */
static void dead_write_done(gw_webhooks *wh)
{
    if (atomic_fetch_sub(&wh->dead_writes, 1) == 1 && atomic_load(&wh->dead_resync) && wh->g->net)
        (void)srv_net_post(wh->g->net, dead_resync_now, wh); /* fails only when stopping */
}

/* The store's writer thread: a dead-letter write failed, so the list in
 * memory may not match the store any more. */
static void on_dead_store_done(void *ctx, int rc, const char *err)
{
    gw_webhooks *wh = ctx;
    if (rc) {
        fprintf(stderr, "level=error mod=webhooks event=store_failed what=dead_letter why=\"%s\"\n",
                err ? err : "");
        atomic_store(&wh->dead_resync, true);
    }
    dead_write_done(wh);
}

static void on_store_done(void *ctx, int rc, const char *err)
{
    /* the writer thread: a line only */
    if (rc)
        fprintf(stderr, "level=error mod=webhooks event=store_failed what=%s why=\"%s\"\n",
                (const char *)ctx, err ? err : "");
}

/* Writes o's record (with `body`) to `table`, and deletes it from
 * deliveries when the table is another. */
/* Puts into b the deletion of the oldest dead letters that must go for one
 * more to fit under max_dead_letters; how many, or -1 (out of memory). The
 * list is not changed here: only once the whole batch is built. */
static long dead_trim_batch(gw_webhooks *wh, gw_batch *b)
{
    long n = 0;
    for (gw_dnode *d = wh->dead.head; d && wh->n_dead + 1 - (size_t)n > wh->g->cfg->wh_max_dead;
         d = d->next, n++)
        if (gw_batch_del(b, GW_DEAD, DEADENT(d)->key, strlen(DEADENT(d)->key)))
            return -1;
    return n;
}

/* The batch holding o's dead letter and the n deletions is built: the list
 * follows it. */
static void dead_commit_list(gw_webhooks *wh, const owed *o, long n)
{
    for (long i = 0; i < n && wh->dead.head; i++) {
        deadent *e = DEADENT(wh->dead.head);
        wh->st.dead_dropped++;
        /* The first, then one line in 1 000: a long outage drops many. */
        if (wh->st.dead_dropped % 1000 == 1)
            fprintf(stderr,
                    "level=warn mod=webhooks event=dead_letter_dropped key=%s kept=%zu "
                    "max_dead_letters=%u dropped_total=%" PRIu64 "\n",
                    e->key, wh->n_dead - 1, wh->g->cfg->wh_max_dead, wh->st.dead_dropped);
        dead_unlink(wh, e);
    }
    if (dead_add(wh, o->key, o->d.last_ms))
        atomic_store(&wh->dead_resync, true); /* out of memory: read it again later */
}

static void save(gw_webhooks *wh, const owed *o, const char *body, size_t len, gw_table table)
{
    gw_batch *b = gw_batch_new();
    jt_buf rec;
    jt_buf_init(&rec);
    gw_delivery d = o->d;
    d.body = (char *)body;
    d.body_len = len;
    long drop = 0;
    if (!b || gw_delivery_encode(&d, &rec) ||
        gw_batch_put(b, table, o->key, strlen(o->key), rec.data, rec.len) ||
        (table != GW_DELIVERIES && gw_batch_del(b, GW_DELIVERIES, o->key, strlen(o->key))) ||
        (table == GW_DEAD && (drop = dead_trim_batch(wh, b)) < 0)) {
        fprintf(stderr, "level=error mod=webhooks event=out_of_memory delivery=%s\n", o->key);
        gw_batch_free(b);
    } else if (table == GW_DEAD) {
        dead_commit_list(wh, o, drop);
        atomic_fetch_add(&wh->dead_writes, 1);
        gw_store_commit_async(wh->g->store, b, on_dead_store_done, wh);
    } else {
        gw_store_commit_async(wh->g->store, b, on_store_done, (void *)"delivery");
    }
    jt_buf_clear(&rec);
}

static void forget(gw_webhooks *wh, const char *key)
{
    gw_batch *b = gw_batch_new();
    if (b && !gw_batch_del(b, GW_DELIVERIES, key, strlen(key)))
        gw_store_commit_async(wh->g->store, b, on_store_done, (void *)"delivery");
    else
        gw_batch_free(b);
}

/* The body to write back with the record: never the opened one. */
static const char *job_stored(const job *j)
{
    return j->stored ? j->stored : j->body;
}

static size_t job_stored_len(const job *j)
{
    return j->stored ? j->stored_len : j->len;
}

static void on_result_loop(void *ctx)
{
    job *j = ctx;
    gw_webhooks *wh = j->wh;
    if (wh->stopping) {
        job_free(j);
        return;
    }
    owed *o = owed_find(wh, j->key);
    if (wh->inflight)
        wh->inflight--;
    if (!o) {
        job_free(j);
        return;
    }
    o->inflight = false;
    if (o->orphan) {
        owed_remove(wh, o);
        job_free(j);
        return;
    }
    gw_delivery *d = &o->d;
    d->attempts++;
    d->last_ms = now_ms();
    d->last_status = j->rc == CURLE_OK ? (int)j->status : 0;
    if (j->rc == CURLE_OK && j->status >= 200 && j->status < 300) {
        wh->st.ok++;
        fprintf(stderr, "level=info mod=webhooks event=delivered hook=%s id=%s attempts=%" PRIu32
                        " status=%ld\n", d->hook, d->event_id, d->attempts, j->status);
        forget(wh, o->key);
        owed_remove(wh, o);
        job_free(j);
        return;
    }
    wh->st.failed++;
    if (j->rc != CURLE_OK)
        snprintf(d->last_error, sizeof d->last_error, "%.190s",
                 j->err[0] ? j->err : curl_easy_strerror(j->rc));
    else
        snprintf(d->last_error, sizeof d->last_error, "HTTP %ld", j->status);
    if (d->attempts >= wh->g->cfg->wh_max_attempts) {
        wh->st.dead++;
        fprintf(stderr, "level=warn mod=webhooks event=dead_letter hook=%s id=%s attempts=%" PRIu32
                        " why=\"%s\"\n", d->hook, d->event_id, d->attempts, d->last_error);
        save(wh, o, job_stored(j), job_stored_len(j), GW_DEAD);
        owed_remove(wh, o);
    } else {
        d->next_ms = d->last_ms + gw_hook_backoff_ms(d->attempts, wh->g->cfg->wh_backoff_ms,
                                                     (uint64_t)wh->g->cfg->wh_backoff_max_s * 1000);
        fprintf(stderr, "level=info mod=webhooks event=retry hook=%s id=%s attempts=%" PRIu32
                        " in_ms=%" PRIu64 " why=\"%s\"\n", d->hook, d->event_id, d->attempts,
                d->next_ms - d->last_ms, d->last_error);
        save(wh, o, job_stored(j), job_stored_len(j), GW_DELIVERIES);
    }
    job_free(j);
}

/* Starts the attempt of o: its body from the store, signed now. */
static int attempt(gw_webhooks *wh, owed *o)
{
    gw_webhook *h = hook_by_id(wh, o->d.hook);
    if (!h) {
        forget(wh, o->key);
        owed_remove(wh, o);
        return 1;
    }
    jt_buf v;
    jt_buf_init(&v);
    char err[256];
    gw_delivery d;
    int found = gw_store_get(wh->g->store, GW_DELIVERIES, o->key, strlen(o->key), &v, err,
                             sizeof err);
    if (found != 1 || gw_delivery_decode(v.data, v.len, &d)) {
        jt_buf_clear(&v);
        if (found == 0) {
            owed_remove(wh, o); /* gone from the store: nothing to send */
            return 1;
        }
        fprintf(stderr, "level=error mod=webhooks event=bad_record delivery=%s\n", o->key);
        o->d.next_ms = now_ms() + 60000;
        return 0;
    }
    jt_buf_clear(&v);
    job *j = calloc(1, sizeof *j);
    char sig[GW_HOOK_SIG_LEN], line[256];
    if (!j || !(j->url = strdup(h->url))) {
        free(j);
        gw_delivery_clear(&d);
        return 0;
    }
    j->wh = wh;
    snprintf(j->key, sizeof j->key, "%s", o->key);
    j->body = d.body;
    j->len = d.body_len;
    d.body = NULL;
    /* The store keeps the event with its memos sealed; the operator's
     * endpoint gets them opened for every account the gateway holds, as
     * an admin key sees them. Opening is deterministic, so every attempt
     * sends the same bytes while the keystore holds the same keys. */
    jt_buf open;
    jt_buf_init(&open);
    gw_memo_reader all = gw_memo_reader_all(wh->g->memos);
    int ro = gw_event_reopen(&open, j->body, j->len, &all);
    if (ro == 0 && jt_buf_append(&open, "", 1) == JT_OK) {
        j->stored = j->body;
        j->stored_len = j->len;
        j->body = (char *)open.data;
        j->len = open.len - 1;
    } else {
        if (ro < 0)
            fprintf(stderr, "level=warn mod=webhooks event=memos_not_opened delivery=%s\n", o->key);
        jt_buf_clear(&open);
    }
    gw_hook_sign(h->secret, j->body, j->len, sig);
    struct curl_slist *hl = NULL;
    hl = curl_slist_append(hl, "Content-Type: application/json");
    snprintf(line, sizeof line, "X-JT-Event-Id: %s", o->d.event_id);
    hl = curl_slist_append(hl, line);
    snprintf(line, sizeof line, "X-JT-Webhook-Id: %s", h->id);
    hl = curl_slist_append(hl, line);
    snprintf(line, sizeof line, "X-JT-Signature: %s", sig);
    hl = curl_slist_append(hl, line);
    snprintf(line, sizeof line, "X-JT-Timestamp: %" PRIu64, now_ms() / 1000);
    hl = curl_slist_append(hl, line);
    snprintf(line, sizeof line, "X-JT-Attempt: %" PRIu32, o->d.attempts + 1);
    hl = curl_slist_append(hl, line);
    hl = curl_slist_append(hl, "Expect:"); /* no 100-continue round trip */
    j->hdrs = hl;
    if (!hl || submit_job(wh, j)) {
        job_free(j);
        o->d.next_ms = now_ms() + 1000;
        return 0;
    }
    o->inflight = true;
    wh->inflight++;
    return 0;
}

static int load_dead_letters(gw_webhooks *wh, char *err, size_t errcap);

/* After a failed dead-letter write: the list is read again from the store,
 * which is what counts (a trim then deletes what the store holds). */
static void dead_reload(gw_webhooks *wh)
{
    while (wh->dead.head)
        dead_unlink(wh, DEADENT(wh->dead.head));
    char err[256];
    if (load_dead_letters(wh, err, sizeof err)) {
        fprintf(stderr, "level=error mod=webhooks event=dead_reload_failed why=\"%s\"\n", err);
        atomic_store(&wh->dead_resync, true); /* again at the next tick */
    } else {
        fprintf(stderr, "level=warn mod=webhooks event=dead_reloaded kept=%zu\n", wh->n_dead);
    }
}

void gw_webhooks_tick(gw_webhooks *wh)
{
    if (wh->stopping)
        return;
    /* Not while a change to the dead letters is on its way to the store
     * (dead_writes): the next tick, then. */
    if (atomic_load(&wh->dead_resync) && atomic_load(&wh->dead_writes) == 0 &&
        atomic_exchange(&wh->dead_resync, false))
        dead_reload(wh);
    uint64_t now = now_ms();
    for (gw_dnode *n = wh->owed.head, *next; n && wh->inflight < wh->g->cfg->wh_max_inflight;
         n = next) {
        next = n->next; /* its owed may be removed */
        owed *o = OWED(n);
        if (!o->inflight && o->d.next_ms <= now)
            attempt(wh, o);
    }
}

/* ------------------------------------------------------------ staging */

int gw_webhooks_stage(gw_webhooks *wh, gw_batch *b, const char *account, const char *id,
                      const char *body, size_t len)
{
    uint64_t now = now_ms();
    size_t max = wh->g->cfg->wh_max_owed, share = wh->n_hooks ? max / wh->n_hooks : max;
    for (size_t i = 0; i < wh->n_hooks; i++) {
        gw_webhook *h = &wh->hooks[i];
        if (!gw_webhook_has(h, account))
            continue;
        /* Bounded: past max_owed in all, a webhook owed its share or more
         * (an endpoint down, most likely) gets nothing new, so the store
         * and memory stay bounded and the other webhooks keep theirs. */
        if (wh->n_owed + wh->n_staged >= max && h->owed + h->staged >= (share ? share : 1)) {
            h->skipped++;
            wh->st.skipped++;
            if (!h->skipping) {
                h->skipping = true;
                fprintf(stderr,
                        "level=error mod=webhooks event=owed_full hook=%s owed=%zu total_owed=%zu "
                        "max_owed=%zu first_skipped=%s\n",
                        h->id, h->owed, wh->n_owed, max, id);
            }
            continue;
        }
        if (h->skipping) {
            h->skipping = false;
            fprintf(stderr,
                    "level=warn mod=webhooks event=owed_resumed hook=%s owed=%zu skipped=%" PRIu64
                    " next=%s\n",
                    h->id, h->owed, h->skipped, id);
        }
        owed *o = calloc(1, sizeof *o);
        if (!o)
            return -1;
        snprintf(o->d.hook, sizeof o->d.hook, "%s", h->id);
        snprintf(o->d.event_id, sizeof o->d.event_id, "%s", id);
        o->d.next_ms = now;
        o->d.created_ms = now;
        jt_buf rec;
        jt_buf_init(&rec);
        gw_delivery d = o->d;
        d.body = (char *)body;
        d.body_len = len;
        if (!gw_delivery_key(h->id, id, o->key, sizeof o->key) ||
            gw_delivery_encode(&d, &rec) ||
            gw_batch_put(b, GW_DELIVERIES, o->key, strlen(o->key), rec.data, rec.len)) {
            jt_buf_clear(&rec);
            free(o);
            return -1;
        }
        jt_buf_clear(&rec);
        if (wh->n_staged == wh->cap_staged) {
            size_t cap = wh->cap_staged ? wh->cap_staged * 2 : 32;
            owed **p = realloc(wh->staged, cap * sizeof *p);
            if (!p) {
                free(o);
                return -1;
            }
            wh->staged = p;
            wh->cap_staged = cap;
        }
        wh->staged[wh->n_staged++] = o;
        h->staged++;
    }
    return 0;
}

void gw_webhooks_staged_done(gw_webhooks *wh, bool committed)
{
    for (size_t i = 0; i < wh->n_hooks; i++)
        wh->hooks[i].staged = 0;
    for (size_t i = 0; i < wh->n_staged; i++) {
        owed *o = wh->staged[i];
        /* A webhook deleted meanwhile, or a delivery already owed (the same
         * event queued again): not added twice. */
        if (!committed || !hook_by_id(wh, o->d.hook) || owed_find(wh, o->key) ||
            owed_add(wh, o))
            free(o);
    }
    wh->n_staged = 0;
    if (committed)
        gw_webhooks_tick(wh);
}

/* ------------------------------------------------------------ life */

static bool load_hook(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
    gw_webhooks *wh = ctx;
    gw_webhook h;
    if (gw_webhook_decode(v, vl, &h)) {
        fprintf(stderr, "level=error mod=webhooks event=bad_record table=hooks key=%.*s\n",
                (int)kl, (const char *)k);
        return true;
    }
    gw_webhook *p = realloc(wh->hooks, (wh->n_hooks + 1) * sizeof *p);
    if (!p) {
        gw_webhook_clear(&h);
        return false;
    }
    wh->hooks = p;
    wh->hooks[wh->n_hooks++] = h;
    return true;
}

static bool load_owed(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
    gw_webhooks *wh = ctx;
    owed *o = calloc(1, sizeof *o);
    if (!o || kl >= sizeof o->key || gw_delivery_decode(v, vl, &o->d)) {
        free(o);
        return true;
    }
    gw_delivery_clear(&o->d);
    memcpy(o->key, k, kl);
    o->key[kl] = 0;
    if (owed_add(wh, o))
        free(o);
    return true;
}

/* Dead letters found at start, to be put in the order they died. */
typedef struct dead_load {
    deadent *v;
    size_t n, cap;
    int rc;
} dead_load;

static bool load_dead(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
    dead_load *dl = ctx;
    gw_delivery d;
    if (kl >= KEY_MAX || gw_delivery_decode(v, vl, &d))
        return true; /* a record it cannot read stays where it is */
    uint64_t at = d.last_ms;
    gw_delivery_clear(&d);
    if (dl->n == dl->cap) {
        size_t cap = dl->cap ? dl->cap * 2 : 256;
        deadent *p = realloc(dl->v, cap * sizeof *p);
        if (!p) {
            dl->rc = -1;
            return false;
        }
        dl->v = p;
        dl->cap = cap;
    }
    deadent *e = &dl->v[dl->n++];
    memcpy(e->key, k, kl);
    e->key[kl] = 0;
    e->at = at;
    return true;
}

static int dead_cmp(const void *a, const void *b)
{
    const deadent *x = a, *y = b;
    return x->at < y->at ? -1 : x->at > y->at ? 1 : strcmp(x->key, y->key);
}

static int load_dead_letters(gw_webhooks *wh, char *err, size_t errcap)
{
    dead_load dl = {0};
    int rc = gw_store_scan(wh->g->store, GW_DEAD, NULL, 0, load_dead, &dl, err, errcap);
    if (!rc && dl.rc) {
        snprintf(err, errcap, "out of memory");
        rc = -1;
    }
    if (!rc && dl.n)
        qsort(dl.v, dl.n, sizeof *dl.v, dead_cmp);
    for (size_t i = 0; !rc && i < dl.n; i++)
        if (dead_add(wh, dl.v[i].key, dl.v[i].at)) {
            snprintf(err, errcap, "out of memory");
            rc = -1;
        }
    free(dl.v);
    return rc;
}

int gw_webhooks_new(gw *g, gw_webhooks **out, char *err, size_t errcap)
{
    *out = NULL;
    gw_webhooks *wh = calloc(1, sizeof *wh);
    if (!wh || !(wh->owed_by_key = gw_map_new()) || !(wh->dead_by_key = gw_map_new())) {
        if (wh)
            gw_map_free(wh->owed_by_key);
        free(wh);
        snprintf(err, errcap, "out of memory");
        return -1;
    }
    wh->g = g;
    pthread_mutex_init(&wh->mu, NULL);
    if (gw_store_scan(g->store, GW_HOOKS, NULL, 0, load_hook, wh, err, errcap) ||
        gw_store_scan(g->store, GW_DELIVERIES, NULL, 0, load_owed, wh, err, errcap) ||
        load_dead_letters(wh, err, errcap)) {
        gw_webhooks_free(wh);
        return -1;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || !(wh->multi = curl_multi_init())) {
        snprintf(err, errcap, "libcurl could not be set up");
        gw_webhooks_free(wh);
        return -1;
    }
    if (pthread_create(&wh->thread, NULL, worker, wh)) {
        snprintf(err, errcap, "cannot start the webhook worker");
        gw_webhooks_free(wh);
        return -1;
    }
    wh->started = true;
    fprintf(stderr, "level=info mod=webhooks event=loaded hooks=%zu owed=%zu\n", wh->n_hooks,
            wh->n_owed);
    *out = wh;
    return 0;
}

void gw_webhooks_stop(gw_webhooks *wh)
{
    if (!wh)
        return;
    wh->stopping = true;
    if (wh->started) {
        pthread_mutex_lock(&wh->mu);
        wh->quit = true;
        pthread_mutex_unlock(&wh->mu);
        curl_multi_wakeup(wh->multi);
        pthread_join(wh->thread, NULL);
        wh->started = false;
    }
}

void gw_webhooks_free(gw_webhooks *wh)
{
    if (!wh)
        return;
    gw_webhooks_stop(wh);
    if (wh->multi) {
        curl_multi_cleanup(wh->multi);
        curl_global_cleanup();
    }
    for (size_t i = 0; i < wh->n_hooks; i++)
        gw_webhook_clear(&wh->hooks[i]);
    free(wh->hooks);
    for (gw_dnode *n = wh->owed.head, *next; n; n = next) {
        next = n->next;
        free(OWED(n));
    }
    gw_map_free(wh->owed_by_key);
    for (gw_dnode *n = wh->dead.head, *next; n; n = next) {
        next = n->next;
        free(DEADENT(n));
    }
    gw_map_free(wh->dead_by_key);
    for (size_t i = 0; i < wh->n_staged; i++)
        free(wh->staged[i]);
    free(wh->staged);
    pthread_mutex_destroy(&wh->mu);
    free(wh);
}

size_t gw_webhooks_count(const gw_webhooks *wh)
{
    return wh->n_hooks;
}

void gw_webhooks_get_stats(const gw_webhooks *wh, gw_webhooks_stats *st)
{
    *st = wh->st;
    st->queued = wh->n_owed;
    st->dead_letters = wh->n_dead;
    st->inflight = wh->inflight;
    st->hooks = wh->n_hooks;
}

/* ------------------------------------------------------------ routes */

static void write_hook(jt_jw *w, const gw_webhook *h, bool with_secret)
{
    jt_jw_key(w, "id");
    jt_jw_string(w, h->id);
    jt_jw_key(w, "url");
    jt_jw_string(w, h->url);
    jt_jw_key(w, "accounts");
    jt_jw_array_begin(w);
    for (size_t i = 0; i < h->n_accounts; i++)
        jt_jw_string(w, h->accounts[i]);
    jt_jw_array_end(w);
    jt_jw_key(w, "created");
    jt_jw_int(w, h->created);
    if (with_secret) {
        jt_jw_key(w, "secret");
        jt_jw_string(w, h->secret);
    }
}

static void reply_w(gw_call *c, jt_jw *w, jt_buf *b, int status)
{
    jt_jw_object_end(w);
    if (jt_jw_finish(w) == JT_OK && b->len >= 2)
        gw_reply(c, status, (const char *)b->data + 1, b->len - 2);
    else
        gw_fail(c, 500, "outOfMemory", NULL, "out of memory");
    jt_buf_clear(b);
}

/* A route that answers once its batch is durable: the store's writer
 * hands the outcome back to the loop, which runs `answer`; when the loop is
 * gone (shutting down) nothing can answer and `drop` frees what is held.
 * Each route's context begins with one. */
typedef struct commit_back {
    gw_call *c;
    int rc;
    char err[256];
    void (*answer)(void *ctx);
    void (*drop)(void *ctx);
    gw_webhooks *dead; /* the batch changes dead letters (counted in dead_writes) */
} commit_back;

static void on_commit_back(void *ctx, int rc, const char *err)
{
    commit_back *cb = ctx;
    cb->rc = rc;
    snprintf(cb->err, sizeof cb->err, "%s", err ? err : "");
    if (cb->dead) {
        /* A failed delete or requeue left the store as it was while the
         * list already changed: it is read again. */
        if (rc)
            atomic_store(&cb->dead->dead_resync, true);
        dead_write_done(cb->dead);
    }
    if (srv_net_post(cb->c->g->net, cb->answer, cb) != 0)
        cb->drop(cb);
}

typedef struct create_ctx {
    commit_back cb;
    gw_webhook h;
} create_ctx;

static void created_loop(void *ctx)
{
    create_ctx *cc = ctx;
    gw_call *c = cc->cb.c;
    gw_webhooks *wh = c->g->webhooks;
    if (cc->cb.rc) {
        gw_fail(c, 503, "storeUnavailable", NULL, cc->cb.err);
        gw_webhook_clear(&cc->h);
        free(cc);
        return;
    }
    jt_buf b;
    jt_buf_init(&b);
    jt_jw w;
    jt_jw_init(&w, &b);
    jt_jw_object_begin(&w);
    jt_jw_key(&w, "webhook");
    jt_jw_object_begin(&w);
    write_hook(&w, &cc->h, true);
    jt_jw_object_end(&w);
    gw_webhook *p = realloc(wh->hooks, (wh->n_hooks + 1) * sizeof *p);
    if (p) {
        wh->hooks = p;
        wh->hooks[wh->n_hooks++] = cc->h;
        fprintf(stderr, "level=info mod=webhooks event=created hook=%s accounts=%zu key=%s\n",
                cc->h.id, cc->h.n_accounts, c->key.id);
    } else {
        gw_webhook_clear(&cc->h);
    }
    /* The secret is shown this once. */
    reply_w(c, &w, &b, p ? 201 : 500);
    sodium_memzero(cc, sizeof *cc);
    free(cc);
}

static void created_drop(void *ctx)
{
    create_ctx *cc = ctx;
    gw_webhook_clear(&cc->h);
    free(cc);
}

void gw_post_webhook(gw_call *c)
{
    gw_webhooks *wh = c->g->webhooks;
    const jt_json *root = jt_json_root(c->body);
    static const char *const keys[] = {"url", "accounts", "secret", NULL};
    gw_txerr te;
    if (gw_check_fields(root, "", keys, &te)) {
        gw_fail(c, 400, "badRequest", te.field, te.msg);
        return;
    }
    const char *url = jt_json_string(jt_json_get(root, "url"));
    const jt_json *acc = jt_json_get(root, "accounts");
    const jt_json *sec = jt_json_get(root, "secret");
    if (!url || !gw_hook_url_ok(url)) {
        gw_fail(c, 400, "badRequest", "url", "url: an http:// or https:// URL");
        return;
    }
    if (!acc || acc->kind != JT_JSON_ARRAY || !acc->u.arr.n ||
        acc->u.arr.n > GW_HOOK_MAX_ACCOUNTS) {
        gw_fail(c, 400, "badRequest", "accounts", "accounts: 1 to 100 account addresses");
        return;
    }
    for (size_t i = 0; i < acc->u.arr.n; i++) {
        const char *a = jt_json_string(acc->u.arr.items[i]);
        if (!a || !jt_address_is_valid(a)) {
            gw_fail(c, 400, "badAddress", "accounts", "accounts: not an account address");
            return;
        }
    }
    if (sec) {
        const char *s = jt_json_string(sec);
        size_t n = s ? strlen(s) : 0;
        bool ok = n >= GW_HOOK_SECRET_MIN && n <= GW_HOOK_SECRET_MAX;
        for (size_t i = 0; ok && i < n; i++)
            ok = s[i] >= 0x20 && s[i] < 0x7f;
        if (!ok) {
            gw_fail(c, 400, "badRequest", "secret",
                    "secret: 16 to 128 printable characters (or leave it out: one is made)");
            return;
        }
    }
    if (wh->n_hooks >= c->g->cfg->wh_max_hooks) {
        gw_fail(c, 409, "tooManyWebhooks", NULL, "[webhooks] max_webhooks are registered");
        return;
    }
    create_ctx *cc = calloc(1, sizeof *cc);
    if (!cc || !(cc->h.accounts = calloc(acc->u.arr.n, sizeof *cc->h.accounts))) {
        free(cc);
        gw_fail(c, 500, "outOfMemory", NULL, "out of memory");
        return;
    }
    cc->cb = (commit_back){.c = c, .answer = created_loop, .drop = created_drop};
    gw_webhook *h = &cc->h;
    uint8_t rnd[24];
    randombytes_buf(rnd, 8);
    sodium_bin2hex(h->id, sizeof h->id, rnd, 8);
    snprintf(h->url, sizeof h->url, "%s", url);
    for (size_t i = 0; i < acc->u.arr.n; i++) {
        const char *a = jt_json_string(acc->u.arr.items[i]);
        if (!gw_webhook_has(h, a))
            snprintf(h->accounts[h->n_accounts++], 40, "%s", a);
    }
    if (sec) {
        snprintf(h->secret, sizeof h->secret, "%s", jt_json_string(sec));
        sodium_memzero((void *)sec->u.str.s, sec->u.str.len);
    } else {
        randombytes_buf(rnd, sizeof rnd);
        memcpy(h->secret, "whsec_", 6);
        sodium_bin2hex(h->secret + 6, sizeof h->secret - 6, rnd, sizeof rnd);
    }
    sodium_memzero(rnd, sizeof rnd);
    h->created = (int64_t)time(NULL);
    gw_batch *b = gw_batch_new();
    jt_buf rec;
    jt_buf_init(&rec);
    if (!b || gw_webhook_encode(h, &rec) ||
        gw_batch_put(b, GW_HOOKS, h->id, strlen(h->id), rec.data, rec.len)) {
        sodium_memzero(rec.data, rec.len);
        jt_buf_clear(&rec);
        gw_batch_free(b);
        gw_webhook_clear(h);
        free(cc);
        gw_fail(c, 500, "outOfMemory", NULL, "out of memory");
        return;
    }
    sodium_memzero(rec.data, rec.len);
    jt_buf_clear(&rec);
    gw_store_commit_async(c->g->store, b, on_commit_back, cc);
}

/* Counts and lists dead letters (all, or one webhook's). */
typedef struct dead_scan {
    const char *hook; /* NULL: all */
    size_t hook_len;
    size_t n;
    size_t max;     /* entries written at most */
    bool bodies;    /* the event itself too */
    const gw_memo_reader *reader; /* whose memos the bodies show opened */
    jt_jw *w;
    size_t *counts; /* per hook index (all) */
    gw_webhooks *wh;
} dead_scan;

static bool scan_dead(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
    dead_scan *ds = ctx;
    if (ds->hook && (kl <= ds->hook_len || memcmp(k, ds->hook, ds->hook_len) ||
                     ((const char *)k)[ds->hook_len] != '/'))
        return false; /* past the webhook's keys */
    gw_delivery d;
    if (gw_delivery_decode(v, vl, &d))
        return true;
    if (ds->counts)
        for (size_t i = 0; i < ds->wh->n_hooks; i++)
            if (!strcmp(ds->wh->hooks[i].id, d.hook))
                ds->counts[i]++;
    if (ds->w && ds->n < ds->max) {
        jt_jw *w = ds->w;
        jt_jw_object_begin(w);
        jt_jw_key(w, "webhook");
        jt_jw_string(w, d.hook);
        jt_jw_key(w, "id");
        jt_jw_string(w, d.event_id);
        jt_jw_key(w, "attempts");
        jt_jw_uint(w, d.attempts);
        jt_jw_key(w, "last_status");
        jt_jw_int(w, d.last_status);
        jt_jw_key(w, "last_error");
        jt_jw_string(w, d.last_error);
        jt_jw_key(w, "created_ms");
        jt_jw_uint(w, d.created_ms);
        jt_jw_key(w, "last_ms");
        jt_jw_uint(w, d.last_ms);
        if (ds->bodies) {
            /* Stored sealed, shown as the delivery would have sent it. */
            jt_buf open;
            jt_buf_init(&open);
            bool opened = gw_event_reopen(&open, d.body, d.body_len, ds->reader) == 0;
            jt_jw_key(w, "event");
            if (opened)
                jt_jw_raw(w, (const char *)open.data, open.len);
            else
                jt_jw_raw(w, d.body, d.body_len);
            jt_buf_clear(&open);
        }
        jt_jw_object_end(w);
    }
    ds->n++;
    gw_delivery_clear(&d);
    return true;
}

void gw_get_webhooks(gw_call *c)
{
    gw_webhooks *wh = c->g->webhooks;
    jt_buf b;
    jt_buf_init(&b);
    jt_jw w;
    jt_jw_init(&w, &b);
    size_t *dead = calloc(wh->n_hooks + 1, sizeof *dead);
    if (!dead) {
        gw_fail(c, 500, "outOfMemory", NULL, "out of memory");
        return;
    }
    jt_jw_object_begin(&w);
    jt_jw_key(&w, "dead_letters");
    jt_jw_array_begin(&w);
    dead_scan ds = {.max = DEAD_LIST, .w = &w, .counts = dead, .wh = wh};
    char err[256];
    int rc = gw_store_scan(c->g->store, GW_DEAD, NULL, 0, scan_dead, &ds, err, sizeof err);
    jt_jw_array_end(&w);
    jt_jw_key(&w, "dead_total");
    jt_jw_uint(&w, ds.n);
    jt_jw_key(&w, "webhooks");
    jt_jw_array_begin(&w);
    for (size_t i = 0; i < wh->n_hooks; i++) {
        size_t pending = wh->hooks[i].owed;
        jt_jw_object_begin(&w);
        write_hook(&w, &wh->hooks[i], false);
        jt_jw_key(&w, "pending");
        jt_jw_uint(&w, pending);
        jt_jw_key(&w, "skipped");
        jt_jw_uint(&w, wh->hooks[i].skipped);
        jt_jw_key(&w, "dead");
        jt_jw_uint(&w, dead[i]);
        jt_jw_object_end(&w);
    }
    jt_jw_array_end(&w);
    free(dead);
    if (rc) {
        jt_buf_clear(&b);
        gw_fail(c, 503, "storeUnavailable", NULL, err);
        return;
    }
    reply_w(c, &w, &b, 200);
}

void gw_get_webhook_dead(gw_call *c)
{
    gw_webhooks *wh = c->g->webhooks;
    const char *id = c->params[0];
    if (!hook_by_id(wh, id)) {
        gw_fail(c, 404, "webhookNotFound", "id", "no such webhook");
        return;
    }
    jt_buf b;
    jt_buf_init(&b);
    jt_jw w;
    jt_jw_init(&w, &b);
    jt_jw_object_begin(&w);
    jt_jw_key(&w, "webhook");
    jt_jw_string(&w, id);
    jt_jw_key(&w, "dead");
    jt_jw_array_begin(&w);
    char from[GW_HOOK_ID_LEN + 2];
    snprintf(from, sizeof from, "%.16s/", id);
    gw_memo_reader reader = gw_memo_reader_key(c->g->memos, &c->key);
    dead_scan ds = {.hook = id, .hook_len = strlen(id), .max = DEAD_PAGE, .bodies = true,
                    .reader = &reader, .w = &w, .wh = wh};
    char err[256];
    int rc = gw_store_scan(c->g->store, GW_DEAD, from, strlen(from), scan_dead, &ds, err,
                           sizeof err);
    jt_jw_array_end(&w);
    jt_jw_key(&w, "total");
    jt_jw_uint(&w, ds.n);
    if (rc) {
        jt_buf_clear(&b);
        gw_fail(c, 503, "storeUnavailable", NULL, err);
        return;
    }
    reply_w(c, &w, &b, 200);
}

typedef struct del_scan {
    gw_batch *b;
    gw_table t;
    const char *prefix;
    size_t plen;
    int rc;
} del_scan;

static bool scan_del(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
    del_scan *ds = ctx;
    if (kl < ds->plen || memcmp(k, ds->prefix, ds->plen))
        return false;
    if (gw_batch_del(ds->b, ds->t, k, kl))
        ds->rc = -1;
    return ds->rc == 0;
}

typedef struct delete_ctx {
    commit_back cb;
    char id[GW_HOOK_ID_LEN + 1];
} delete_ctx;

static void deleted_loop(void *ctx)
{
    delete_ctx *dc = ctx;
    gw_call *c = dc->cb.c;
    if (dc->cb.rc) {
        gw_fail(c, 503, "storeUnavailable", NULL, dc->cb.err);
    } else {
        jt_buf b;
        jt_buf_init(&b);
        jt_jw w;
        jt_jw_init(&w, &b);
        jt_jw_object_begin(&w);
        jt_jw_key(&w, "deleted");
        jt_jw_string(&w, dc->id);
        reply_w(c, &w, &b, 200);
    }
    free(dc);
}

void gw_delete_webhook(gw_call *c)
{
    gw_webhooks *wh = c->g->webhooks;
    const char *id = c->params[0];
    gw_webhook *h = hook_by_id(wh, id);
    if (!h) {
        gw_fail(c, 404, "webhookNotFound", "id", "no such webhook");
        return;
    }
    delete_ctx *dc = calloc(1, sizeof *dc);
    gw_batch *b = gw_batch_new();
    char prefix[GW_HOOK_ID_LEN + 2], err[256];
    snprintf(prefix, sizeof prefix, "%.16s/", id);
    del_scan ds = {.b = b, .prefix = prefix, .plen = strlen(prefix)};
    if (!dc || !b || gw_batch_del(b, GW_HOOKS, id, strlen(id))) {
        free(dc);
        gw_batch_free(b);
        gw_fail(c, 500, "outOfMemory", NULL, "out of memory");
        return;
    }
    /* Its deliveries and dead letters go with it. */
    ds.t = GW_DELIVERIES;
    int rc = gw_store_scan(c->g->store, GW_DELIVERIES, prefix, strlen(prefix), scan_del, &ds, err,
                           sizeof err);
    ds.t = GW_DEAD;
    if (!rc)
        rc = gw_store_scan(c->g->store, GW_DEAD, prefix, strlen(prefix), scan_del, &ds, err,
                           sizeof err);
    /* ... and those whose records are still on their way to the store
     * (queued before this batch, so written before it): the lists in
     * memory hold them, the scan above may not. */
    size_t plen = strlen(prefix);
    for (gw_dnode *n = wh->owed.head; n && !rc && !ds.rc; n = n->next)
        if (!strncmp(OWED(n)->key, prefix, plen) &&
            gw_batch_del(b, GW_DELIVERIES, OWED(n)->key, strlen(OWED(n)->key)))
            ds.rc = -1;
    for (gw_dnode *n = wh->dead.head; n && !rc && !ds.rc; n = n->next)
        if (!strncmp(DEADENT(n)->key, prefix, plen) &&
            gw_batch_del(b, GW_DEAD, DEADENT(n)->key, strlen(DEADENT(n)->key)))
            ds.rc = -1;
    if (rc || ds.rc) {
        free(dc);
        gw_batch_free(b);
        gw_fail(c, 503, "storeUnavailable", NULL, rc ? err : "out of memory");
        return;
    }
    dc->cb = (commit_back){.c = c, .answer = deleted_loop, .drop = free, .dead = wh};
    snprintf(dc->id, sizeof dc->id, "%.16s", id);
    /* From now on nothing more is queued or sent for it. */
    gw_webhook_clear(h);
    *h = wh->hooks[--wh->n_hooks];
    for (gw_dnode *n = wh->owed.head, *next; n; n = next) {
        next = n->next;
        owed *o = OWED(n);
        if (!strcmp(o->d.hook, dc->id)) {
            if (o->inflight)
                o->orphan = true;
            else
                owed_remove(wh, o);
        }
    }
    for (gw_dnode *n = wh->dead.head, *next; n; n = next) {
        next = n->next;
        if (!strncmp(DEADENT(n)->key, prefix, strlen(prefix)))
            dead_unlink(wh, DEADENT(n));
    }
    fprintf(stderr, "level=info mod=webhooks event=deleted hook=%s key=%s\n", dc->id, c->key.id);
    atomic_fetch_add(&wh->dead_writes, 1);
    gw_store_commit_async(c->g->store, b, on_commit_back, dc);
}

/* ------------------------------------------------ dead letters sent again */

typedef struct requeue_scan {
    gw_batch *b;
    const char *prefix;
    size_t plen;
    uint64_t now;
    owed **list; /* the deliveries to add once the batch is durable */
    size_t n, cap;
    size_t max; /* RETRY_MAX, or the request's limit */
    bool more;  /* stopped at max */
    int rc;
} requeue_scan;

/* A dead letter becomes a delivery owed again: attempts from zero, due now,
 * the last error kept for the record. */
static bool scan_requeue(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
    requeue_scan *rs = ctx;
    if (kl < rs->plen || memcmp(k, rs->prefix, rs->plen))
        return false;
    if (rs->n >= rs->max) {
        rs->more = true;
        return false;
    }
    owed *o = calloc(1, sizeof *o);
    jt_buf rec;
    jt_buf_init(&rec);
    if (!o || kl >= sizeof o->key || gw_delivery_decode(v, vl, &o->d)) {
        free(o);
        return true; /* a record it cannot read stays where it is */
    }
    memcpy(o->key, k, kl);
    o->key[kl] = 0;
    o->d.attempts = 0;
    o->d.next_ms = rs->now;
    if (rs->n == rs->cap) {
        size_t cap = rs->cap ? rs->cap * 2 : 32;
        owed **l = realloc(rs->list, cap * sizeof *l);
        if (!l)
            goto oom;
        rs->list = l;
        rs->cap = cap;
    }
    if (gw_delivery_encode(&o->d, &rec) ||
        gw_batch_put(rs->b, GW_DELIVERIES, k, kl, rec.data, rec.len) ||
        gw_batch_del(rs->b, GW_DEAD, k, kl))
        goto oom;
    jt_buf_clear(&rec);
    gw_delivery_clear(&o->d); /* the body is read from the store per attempt */
    rs->list[rs->n++] = o;
    return true;
oom:
    jt_buf_clear(&rec);
    gw_delivery_clear(&o->d);
    free(o);
    rs->rc = -1;
    return false;
}

typedef struct requeue_ctx {
    commit_back cb;
    char id[GW_HOOK_ID_LEN + 1];
    owed **list;
    size_t n;
    bool more;
} requeue_ctx;

static void requeued_loop(void *ctx)
{
    requeue_ctx *rq = ctx;
    gw_call *c = rq->cb.c;
    gw_webhooks *wh = c->g->webhooks;
    size_t added = 0;
    for (size_t i = 0; i < rq->n; i++) {
        owed *o = rq->list[i];
        /* Unless its webhook went meanwhile, or it is owed already. */
        if (rq->cb.rc || !hook_by_id(wh, o->d.hook) || owed_find(wh, o->key) || owed_add(wh, o))
            free(o);
        else
            added++;
    }
    free(rq->list);
    if (rq->cb.rc) {
        /* Still dead letters in the store, no longer in the list. */
        atomic_store(&wh->dead_resync, true);
        gw_fail(c, 503, "storeUnavailable", NULL, rq->cb.err);
    } else {
        fprintf(stderr, "level=info mod=webhooks event=requeued hook=%s count=%zu key=%s\n", rq->id,
                added, c->key.id);
        jt_buf b;
        jt_buf_init(&b);
        jt_jw w;
        jt_jw_init(&w, &b);
        jt_jw_object_begin(&w);
        jt_jw_key(&w, "webhook");
        jt_jw_string(&w, rq->id);
        jt_jw_key(&w, "requeued");
        jt_jw_uint(&w, added);
        jt_jw_key(&w, "more");
        jt_jw_bool(&w, rq->more);
        reply_w(c, &w, &b, 200);
        gw_webhooks_tick(wh); /* the first attempts start now */
    }
    free(rq);
}

static void requeued_drop(void *ctx)
{
    requeue_ctx *rq = ctx;
    for (size_t i = 0; i < rq->n; i++)
        free(rq->list[i]);
    free(rq->list);
    free(rq);
}

void gw_post_webhook_retry(gw_call *c)
{
    gw_webhooks *wh = c->g->webhooks;
    const char *id = c->params[0];
    if (!hook_by_id(wh, id)) {
        gw_fail(c, 404, "webhookNotFound", "id", "no such webhook");
        return;
    }
    size_t max = RETRY_MAX;
    const char *l = srv_http_query_arg(c->r, "limit");
    if (l && *l) {
        char *end;
        unsigned long v = strtoul(l, &end, 10);
        if (*end || v == 0 || v > RETRY_MAX) {
            gw_fail(c, 400, "badLimit", "limit", "limit is a whole number from 1 to 1000");
            return;
        }
        max = v;
    }
    requeue_ctx *rq = calloc(1, sizeof *rq);
    gw_batch *b = gw_batch_new();
    char prefix[GW_HOOK_ID_LEN + 2], err[256];
    snprintf(prefix, sizeof prefix, "%.16s/", id);
    requeue_scan rs = {.b = b, .prefix = prefix, .plen = strlen(prefix), .now = now_ms(), .max = max};
    int rc = !rq || !b ? -1
                       : gw_store_scan(c->g->store, GW_DEAD, prefix, strlen(prefix), scan_requeue,
                                       &rs, err, sizeof err);
    if (rc || rs.rc) {
        for (size_t i = 0; i < rs.n; i++)
            free(rs.list[i]);
        free(rs.list);
        free(rq);
        gw_batch_free(b);
        if (rc && rq && b)
            gw_fail(c, 503, "storeUnavailable", NULL, err);
        else
            gw_fail(c, 500, "outOfMemory", NULL, "out of memory");
        return;
    }
    rq->cb = (commit_back){
        .c = c, .answer = requeued_loop, .drop = requeued_drop, .dead = c->g->webhooks};
    snprintf(rq->id, sizeof rq->id, "%.16s", id);
    rq->list = rs.list;
    rq->n = rs.n;
    rq->more = rs.more;
    for (size_t i = 0; i < rs.n; i++)
        dead_forget(c->g->webhooks, rs.list[i]->key);
    atomic_fetch_add(&c->g->webhooks->dead_writes, 1);
    gw_store_commit_async(c->g->store, b, on_commit_back, rq);
}
