/* Signs a 1 SWT payment from the development genesis account; prints the blob. */
#include <jt/jt.h>
#include <stdio.h>
#include <string.h>

int main(void)
{
    const char *tx_json = "{\"TransactionType\":\"Payment\",\"Flags\":0,\"Sequence\":1,"
        "\"Account\":\"jHb9CJAWyB4jr91VRWn96DkukG4bwdtyTh\",\"Amount\":\"1000000\","
        "\"Destination\":\"jnQJ6M9wMtNDSWyk1wqAYa2CXdmDZ5h5Xb\",\"Fee\":\"10000\"}";
    jt_keypair kp;
    jt_obj *tx = NULL;
    jt_buf blob;
    char hex[1024];
    jt_buf_init(&blob);
    if (jt_keypair_from_secret("snoPBjXtMeMyMHUVTgbuqAfg1SUTb", &kp, NULL) ||
        jt_obj_from_json(tx_json, strlen(tx_json), &tx, NULL) || jt_tx_sign(tx, &kp, NULL) ||
        jt_obj_to_binary(tx, 0, &blob) || jt_hex_encode(blob.data, blob.len, hex, sizeof hex))
        return 1;
    puts(hex);
    jt_buf_clear(&blob);
    jt_obj_free(tx);
    jt_keypair_clear(&kp);
    return 0;
}
