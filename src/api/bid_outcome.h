/* A bid's outcome as plain fields, and the three texts made from it without a jansson tree: the
 * record kept for its clientBidId, the REST body and the WebSocket bid_result. A replay reads the
 * record back (with jansson: replays are rare). */
#ifndef GAVEL_API_BID_OUTCOME_H
#define GAVEL_API_BID_OUTCOME_H

#include "core/buf.h"

#include <stdint.h>

typedef struct {
    int status;             /* HTTP status: 200 accepted; 4xx a rejection by the rules; 5xx ours */
    int64_t seq;            /* accepted: the bid event's seq */
    int lot;                /* accepted */
    int64_t amount;         /* accepted */
    int64_t ends_at_ms;     /* accepted: the lot's end after the bid */
    char code[40];          /* rejected: the API's error code */
    char message[200];      /* rejected: for people */
    char details[256];      /* rejected: a JSON object's text ("{}" for none) */
    int64_t retry_after_ms; /* 429: when the next bid is let through (not in the record) */
} bid_outcome_t;

/* bid_outcome_accepted fills o for an accepted bid. */
void bid_outcome_accepted(bid_outcome_t *o, int64_t seq, int lot, int64_t amount,
                          int64_t ends_at_ms);

/* bid_outcome_rejected fills o for a rejection: status, code, message, and details (a JSON
 * object's text, NULL for {}); texts too long for o are cut (details then becomes {}). */
void bid_outcome_rejected(bid_outcome_t *o, int status, const char *code, const char *message,
                          const char *details);

/* bid_outcome_record appends the record kept for the clientBidId, {"status":S,"body":BODY}.
 * 0 or GV_ENOMEM. */
int bid_outcome_record(const bid_outcome_t *o, buf_t *out);

/* bid_outcome_body appends the REST body: {"accepted":true,"seq","lot","amount","endsAtMs"} or
 * {"error":{"code","message","details"}}. 0 or GV_ENOMEM. */
int bid_outcome_body(const bid_outcome_t *o, buf_t *out);

/* bid_outcome_result appends the WebSocket answer {"type":"bid_result","clientBidId",
 * "accepted":true,"seq"} or {..., "accepted":false,"code","message","details"}. 0 or
 * GV_ENOMEM. */
int bid_outcome_result(const bid_outcome_t *o, const char *cbid, buf_t *out);

/* bid_outcome_parse reads a record (bid_outcome_record's, or jansson's of an older version)
 * into o: status 200 with "accepted":true, or a 4xx/5xx status with an "error" object. 0, or
 * GV_EINVALID_JSON when text is not one. */
int bid_outcome_parse(const char *text, bid_outcome_t *o);

#endif
