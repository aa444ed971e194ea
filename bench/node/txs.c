#include "common.h"

/* ---------------------------------------------------------------- transactions */

static uint64_t id_hash(const uint8_t id[32])
{
    uint64_t h;
    memcpy(&h, id, 8);
    return h;
}

static void idmap_init(idmap *m, const ptx *v, size_t n)
{
    size_t cap = 1024;
    while (cap < n * 2)
        cap <<= 1;
    m->slot = xcalloc(cap, sizeof *m->slot);
    m->mask = cap - 1;
    m->v = v;
    for (size_t i = 0; i < n; i++) {
        size_t s = (size_t)id_hash(v[i].id) & m->mask;
        while (m->slot[s])
            s = (s + 1) & m->mask;
        m->slot[s] = (uint32_t)i + 1;
    }
}

long idmap_find(const idmap *m, const uint8_t id[32])
{
    size_t s = (size_t)id_hash(id) & m->mask;
    while (m->slot[s]) {
        uint32_t i = m->slot[s] - 1;
        if (!memcmp(m->v[i].id, id, 32))
            return (long)i;
        s = (s + 1) & m->mask;
    }
    return -1;
}

void set_alloc(ptx_set *s, size_t n)
{
    memset(s, 0, sizeof *s);
    s->v = xcalloc(n, sizeof *s->v);
    s->n = n;
}

void set_signed(ptx_set *s)
{
    idmap_init(&s->map, s->v, s->n);
}

void set_free(ptx_set *s)
{
    for (size_t k = 0; k < s->n; k++)
        free(s->v[k].req);
    free(s->v);
    free(s->map.slot);
    memset(s, 0, sizeof *s);
}

static char *make_request(uint64_t id, const jt_buf *blob, uint32_t *len)
{
    size_t cap = blob->len * 2 + 96;
    char *s = malloc(cap);
    if (!s)
        return NULL;
    int n = snprintf(s, cap, "{\"id\":%" PRIu64 ",\"command\":\"submit\",\"tx_blob\":\"", id);
    if (jt_hex_encode(blob->data, blob->len, s + n, cap - (size_t)n) != JT_OK) {
        free(s);
        return NULL;
    }
    n += (int)(blob->len * 2);
    n += snprintf(s + n, cap - (size_t)n, "\"}");
    *len = (uint32_t)n;
    return s;
}

jt_err drops(jt_amount *a, uint64_t v)
{
    char d[24];
    snprintf(d, sizeof d, "%" PRIu64, v);
    return jt_amount_from_drops(a, d, 0, NULL);
}

/* A new transaction with the fields every one has (Fee 10 drops); NULL
 * out of memory or on a bad field. */
jt_obj *tx_begin(unsigned type, uint32_t flags, const account *from, uint32_t seq)
{
    jt_obj *tx = jt_obj_new();
    jt_amount fee;
    if (!tx || drops(&fee, FEE_DROPS) || jt_obj_set_uint(tx, "TransactionType", type) ||
        jt_obj_set_uint(tx, "Flags", flags) || jt_obj_set_uint(tx, "Sequence", seq) ||
        jt_obj_set_account(tx, "Account", &from->id) || jt_obj_set_amount(tx, "Fee", &fee)) {
        jt_obj_free(tx);
        return NULL;
    }
    return tx;
}

/* Signs `tx` (freed here) as `from`, with libjt, into p's submit request.
 * `e` is the error of filling in its own fields, if any. */
jt_err tx_finish(ptx *p, uint64_t req_id, jt_obj *tx, const account *from, jt_err e)
{
    jt_buf b;
    jt_buf_init(&b);
    if (!tx)
        e = JT_ENOMEM;
    if (!e && !(e = jt_tx_sign(tx, &from->kp, NULL)) && !(e = jt_obj_to_binary(tx, 0, &b))) {
        jt_tx_blob_id(b.data, b.len, p->id);
        if (!(p->req = make_request(req_id, &b, &p->req_len)))
            e = JT_ENOMEM;
    }
    jt_buf_clear(&b);
    jt_obj_free(tx);
    return e;
}

jt_err sign_payment(ptx *p, uint64_t req_id, const account *from, uint32_t seq,
                    const jt_account_id *to, const jt_amount *amt)
{
    jt_obj *tx = tx_begin(JT_TX_PAYMENT, 0, from, seq);
    jt_err e = tx ? jt_obj_set_account(tx, "Destination", to) : JT_OK;
    if (!e && tx)
        e = jt_obj_set_amount(tx, "Amount", amt);
    return tx_finish(p, req_id, tx, from, e);
}

jt_err sign_swt_payment(ptx *p, uint64_t req_id, const account *from, uint32_t seq,
                        const jt_account_id *to, uint64_t amount)
{
    jt_amount amt;
    jt_err e = drops(&amt, amount);
    return e ? e : sign_payment(p, req_id, from, seq, to, &amt);
}

typedef struct par_job {
    job_fn fn;
    void *ctx;
    size_t n, first;
    jt_err err;
} par_job;

static void *par_thread(void *arg)
{
    par_job *j = arg;
    for (size_t k = j->first; k < j->n && !j->err; k += 2)
        j->err = j->fn(j->ctx, k);
    return NULL;
}

void parallel(size_t n, job_fn fn, void *ctx, const char *what)
{
    par_job jobs[2];
    pthread_t th[2];
    for (int i = 0; i < 2; i++) {
        jobs[i] = (par_job){.fn = fn, .ctx = ctx, .n = n, .first = (size_t)i};
        if (pthread_create(&th[i], NULL, par_thread, &jobs[i]))
            die("pthread_create failed");
    }
    for (int i = 0; i < 2; i++) {
        pthread_join(th[i], NULL);
        check(jobs[i].err, what);
    }
}

/* New secp256k1 accounts, keys generated on two threads. */
static jt_err make_key(void *ctx, size_t a)
{
    account *acct = &((account *)ctx)[a];
    jt_seed seed;
    jt_err e = jt_seed_generate(JT_KEY_SECP256K1, &seed);
    if (!e)
        e = jt_keypair_from_seed(&seed, &acct->kp);
    if (!e)
        e = jt_account_id_from_pubkey(acct->kp.pub, 33, &acct->id);
    jt_seed_clear(&seed);
    return e;
}

account *make_accounts(size_t n)
{
    account *v = xcalloc(n, sizeof *v);
    parallel(n, make_key, v, "generating account keys");
    return v;
}

void free_accounts(account *v, size_t n)
{
    for (size_t a = 0; a < n; a++)
        jt_keypair_clear(&v[a].kp);
    free(v);
}

jt_err sign_fund(void *ctx, size_t k)
{
    const fund_job *j = ctx;
    j->v[k].src = 0; /* every one from the genesis account: one connection, in Sequence order */
    return sign_swt_payment(&j->v[k], k, j->genesis, j->gseq + (uint32_t)k, &j->accts[k].id,
                            j->amount);
}
