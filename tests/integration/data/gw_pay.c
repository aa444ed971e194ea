/* gw_pay.c — a program using libjt's gateway client (docs/gateway-client.md):
 * an account's balances, then, when asked, an SWT payment sent until its
 * outcome is known. test_install.sh builds it against an installed tree.
 *
 *     JT_API_KEY=jtk_... gw_pay URL ACCOUNT [DESTINATION VALUE]
 *
 * Exit status: 0 done, 1 the payment did not succeed, 2 an error (stderr). */
#include <jt/jt.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static int fail(const char *what, jt_err e, const jt_errinfo *ei)
{
    fprintf(stderr, "gw_pay: %s: %s (%s)\n", what, ei->msg, jt_errname(e));
    return 2;
}

static int pay(jt_gw *g, char **argv)
{
    jt_gw_payment p;
    jt_gw_payment_init(&p);
    p.source = argv[2];
    p.destination = argv[3];
    p.amount = (jt_gw_amount){argv[4], "SWT", NULL};
    p.wait_validated = true;
    jt_gw_tx_status st;
    jt_errinfo ei;
    jt_err e;
    for (int attempt = 1;; attempt++) {
        e = jt_gw_pay(g, &p, &st, &ei);
        /* Unknown outcome, or not sent: the same request again, under the
         * client_id the first attempt made, is the same payment. */
        if ((e != JT_ELOST && e != JT_ETIMEDOUT && e != JT_EUNAVAILABLE &&
             e != JT_ERATELIMIT) ||
            attempt == 5)
            break;
        p.client_id = st.client_id;
        sleep(1);
    }
    if (e && e != JT_EREJECTED)
        return fail("payment", e, &ei);
    printf("%s %s %s client_id=%s\n", st.hash, st.status, st.result, st.client_id);
    return jt_gw_tx_succeeded(&st) ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc != 3 && argc != 5) {
        fprintf(stderr, "usage: gw_pay URL ACCOUNT [DESTINATION VALUE]\n");
        return 2;
    }
    jt_gw_options opt;
    jt_gw_options_init(&opt);
    opt.api_key = getenv("JT_API_KEY");
    jt_gw *g;
    jt_errinfo ei;
    jt_err e = jt_gw_new(argv[1], &opt, &g, &ei);
    if (e)
        return fail(argv[1], e, &ei);

    jt_gw_balances b;
    e = jt_gw_balances_get(g, argv[2], NULL, NULL, &b, &ei);
    if (e) {
        jt_gw_balances_clear(&b);
        jt_gw_free(g);
        return fail("balances", e, &ei);
    }
    for (size_t i = 0; i < b.n; i++)
        printf("%s %s %s\n", b.items[i].amount.value, b.items[i].amount.currency,
               b.items[i].amount.issuer);
    jt_gw_balances_clear(&b);

    int rc = argc == 5 ? pay(g, argv) : 0;
    jt_gw_free(g);
    return rc;
}
