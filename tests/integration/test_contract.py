"""The API contract as data (issue 12), against the real binary.

Every test computes what it expects from the contract itself (API.md, PRODUCT.md, the project's
docs/auction.md and docs/leagues.md) -- an oracle inside the test -- and compares the server's
data with it, never a bare status code. Nothing races a wall clock: lots are long and closed with
the commissioner's close-lot, the tests wait for states by polling with generous deadlines, and
where a deadline matters (anti-snipe, intermissions, a deleted auction's timer) the expectation is
computed from the instants the server itself recorded (an event's `serverTimeMs`, a state's
`remainingMs`).

Covered: GET /api/leagues/{id}/auction; undo, reset, end and delete with their events on a
WebSocket; completedReason no_lots_left and ended_by_commissioner; anti-snipe inside and outside
the window; re-offers (retry) and random lot order; the members ?role= filter; leave_league;
the league event auction_created; intermission nextLot; asset statuses with owner and price;
refusals (roster_full, locked, auction_started, invalid_state, equal bids, malformed bids);
results per manager; a deleted auction's timers; rate limits (bids, league creation, verify
failures per e-mail); /api/ready around recovery and shutdown; restart of a paused auction; the
OpenAPI description against API.md's tables and the router.

Run with Debian's interpreter: /usr/bin/python3 -m pytest -q tests/integration/test_contract.py
"""

import csv
import io
import json
import os
import re
import signal
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from conftest import REPO, TIMEOUT, run_async, wait_for
from test_auction import M, bid, control, setup_auction, state, wait_state
from test_auth import bearer, fresh_email, post, request_link
from test_leagues import Client, code_of, make_league
from test_realtime import Peer, thread

STATE_SETTINGS = ("budget", "rosterSize", "minBid", "minIncrement", "lotSeconds",
                  "antiSnipeSeconds", "intermissionSeconds")
AUCTION_EVENTS = {"auction_created", "lot_opened", "bid", "lot_closed", "intermission", "paused",
                  "resumed", "lot_undone", "auction_completed", "auction_reset", "auction_deleted"}
ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # the invite alphabet of sign-in codes


# ---- helpers ------------------------------------------------------------------------------------


def league_ready(server, n_managers, n_assets, spectators=0, **settings):
    """A league (fixed order, long lots, no anti-snipe, no intermission unless given) with
    n_managers members (the commissioner first), `spectators` watchers and the first n_assets
    AFCON assets selected. Returns (people, spectators, league, selection, settings)."""
    people = [Client(server) for _ in range(n_managers)]
    comm = people[0]
    cfg = dict(budget=500 * M, rosterSize=2, minBid=M, minIncrement=M, lotSeconds=300,
               antiSnipeSeconds=0, intermissionSeconds=0, reofferUnsold=0, lotOrder="fixed",
               minManagers=1, maxManagers=8)
    cfg.update(settings)
    lg = make_league(comm, **cfg)
    for p in people[1:]:
        r = p.post(f"/api/invites/{lg['inviteCode']}/join")
        assert r.status_code == 200 and r.json()["role"] == "manager", r.text
    watchers = [Client(server) for _ in range(spectators)]
    for w in watchers:
        r = w.post(f"/api/watch/{lg['watchCode']}")
        assert r.status_code == 200 and r.json()["role"] == "spectator", r.text
    afcon = comm.all_items("/api/assets", competition="AFCON-2025")
    selection = [a["id"] for a in afcon][:n_assets]
    assert len(selection) == n_assets
    r = comm.call("PUT", f"/api/leagues/{lg['id']}/assets", {"assetIds": selection})
    assert r.status_code == 200, r.text
    return people, watchers, lg, selection, cfg


def create_auction(comm, lg):
    r = comm.post(f"/api/leagues/{lg['id']}/auction")
    assert r.status_code == 201, r.text
    return r.json()


def log_of(who, aid, after=None):
    params = {"afterSeq": after} if after is not None else {}
    return who.all_items(f"/api/auctions/{aid}/events", **params)


def accepted(r):
    assert r.status_code == 200 and r.json()["accepted"] is True, r.text
    return r.json()


def refused(r, status, code):
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert err["code"] == code and err["message"], err
    return err


def manager(st, uid):
    return next(m for m in st["managers"] if m["userId"] == uid)


def max_bid(budget_remaining, empty_slots, min_bid):
    """PRODUCT.md bid rule 6: maxBid = budgetRemaining - minBid x (emptySlots - 1)."""
    return budget_remaining - min_bid * (empty_slots - 1)


def fresh_managers(cfg, ids):
    """The managers of an auction nobody has bought anything in yet."""
    return {uid: {"budgetRemaining": cfg["budget"], "emptySlots": cfg["rosterSize"], "roster": [],
                  "maxBid": max_bid(cfg["budget"], cfg["rosterSize"], cfg["minBid"])}
            for uid in ids}


def managers_view(st):
    keys = ("budgetRemaining", "emptySlots", "roster", "maxBid")
    return {m["userId"]: {k: m[k] for k in keys} for m in st["managers"]}


def stable(st):
    """An AuctionState without what moves with the clock or with connections."""
    st = json.loads(json.dumps(st))
    st.pop("serverTimeMs", None)
    st.pop("spectatorsOnline", None)
    if st.get("lot"):
        st["lot"].pop("remainingMs", None)
    for m in st["managers"]:
        m.pop("online", None)
    return st


def running_lot(who, aid, number):
    return wait_state(who, aid, lambda s: s["lot"] is not None and s["lot"]["number"] == number
                      and s["lot"]["state"] == "running", timeout=30)


def anti_snipe_oracle(prior_ends_ms, at_ms, window_s):
    """PRODUCT.md: if fewer than antiSnipeSeconds remain when a bid is accepted, endsAt becomes
    now + antiSnipeSeconds (reset-to, repeatable, no cap); 0 = off. -> (extended, endsAtMs)."""
    if window_s and prior_ends_ms - at_ms < window_s * 1000:
        return True, at_ms + window_s * 1000
    return False, prior_ends_ms


def offer_plan(selection, reoffer, sold_lots):
    """PRODUCT.md "Next lot": the queue in order, then the unsold assets re-offered in order for
    at most `reoffer` extra passes, each re-offer flagged retry; lot numbers +1 per lot opened.
    -> [(lot number, assetId, retry)] given the lot numbers that sell."""
    plan, number, queue = [], 0, list(selection)
    for npass in range(reoffer + 1):
        unsold = []
        for asset in queue:
            number += 1
            plan.append((number, asset, npass > 0))
            if number not in sold_lots:
                unsold.append(asset)
        queue = unsold
        if not queue:
            break
    return plan


async def league_peer(server, who, lid):
    """A socket subscribed to the league room (join_league has no answer: a ping round trip
    proves the server handled it)."""
    peer = await Peer.connect(server, who)
    await peer.send(type="join_league", leagueId=lid)
    assert await peer.barrier() == [], peer.inbox
    return peer


# ---- GET /api/leagues/{id}/auction ---------------------------------------------------------------


def test_get_league_auction_is_the_auction_state(server):
    """API.md: GET /api/leagues/{id}/auction (member) -> AuctionState or 404; the REST read and
    the snapshot are the same object; managers lists the commissioner and managers only."""
    people, (spec,), lg, sel, cfg = league_ready(
        server, 3, 5, spectators=1, budget=90 * M, rosterSize=3, minBid=2 * M, minIncrement=M,
        lotSeconds=45, antiSnipeSeconds=7, intermissionSeconds=4)
    comm, a, b = people
    outsider = Client(server)
    path = f"/api/leagues/{lg['id']}/auction"
    for who in (comm, a, spec):  # no auction yet
        r = who.get(path)
        assert r.status_code == 404 and code_of(r) == "not_found", r.text
    created = create_auction(comm, lg)
    aid = created["id"]
    ids = {p.id for p in people}
    for who in (comm, a, spec):
        got = who.get(path)
        assert got.status_code == 200, got.text
        st = got.json()
        assert stable(st) == stable(state(who, aid)) == stable(created)
        assert st["id"] == aid and st["leagueId"] == lg["id"] and st["status"] == "waiting"
        assert st["seq"] == 1, "seq starts at 1 with auction_created"
        assert st["lot"] is None and st["completedReason"] is None
        assert st["settings"] == {k: cfg[k] for k in STATE_SETTINGS}
        assert st["progress"] == {"lotsTotal": 5, "lotsClosed": 0, "sold": 0, "unsold": 0,
                                  "queued": 5}
        assert managers_view(st) == fresh_managers(cfg, ids), "the spectator is not a manager"
    r = outsider.get(path)
    assert r.status_code == 404 and code_of(r) == "not_found" and aid not in r.text
    control(comm, aid, "begin")
    st = a.get(path).json()
    assert st["status"] == "running" and st["seq"] == 2
    lot = st["lot"]
    assert (lot["number"], lot["asset"]["id"], lot["state"], lot["retry"]) == (1, sel[0], "running",
                                                                              False)
    assert lot["currentBid"] is None and lot["leaderId"] is None and lot["leaderName"] is None
    assert 0 < lot["endsAtMs"] - st["serverTimeMs"] <= cfg["lotSeconds"] * 1000
    assert lot["remainingMs"] == max(0, lot["endsAtMs"] - st["serverTimeMs"])
    assert st["progress"]["queued"] == 4, "the lot on the block is not queued"
    assert comm.call("DELETE", f"/api/auctions/{aid}").status_code == 204
    r = spec.get(path)
    assert r.status_code == 404 and code_of(r) == "not_found"


# ---- undo, reset, end, completion ----------------------------------------------------------------


def test_undo_refunds_the_winner_and_reoffers_the_asset(server):
    """PRODUCT.md undo: only while paused or completed; reverts the most recently closed lot
    (refund); a later lot open without bids goes back to the queue; the undone asset becomes the
    next lot with a new lot number; paused afterwards; resume continues with a full clock.
    API.md: lot_undone {lot, assetId, refundedUserId, amount}."""
    people, _, lg, sel, cfg = league_ready(server, 3, 4, rosterSize=2, lotSeconds=120)
    comm, a, b = people
    aid = create_auction(comm, lg)["id"]

    async def go():
        peer = await Peer.connect(server, comm)
        snap = await peer.join(aid)
        assert snap["type"] == "snapshot" and snap["auction"]["id"] == aid
        await thread(control, comm, aid, "begin")
        r = await thread(comm.post, f"/api/auctions/{aid}/undo")
        refused(r, 409, "invalid_state")  # running: undo does not apply
        accepted(await thread(bid, a, aid, 1, 3 * M))
        accepted(await thread(bid, b, aid, 1, 8 * M))
        await thread(control, comm, aid, "close-lot")
        await running_lot_async(comm, aid, 2)
        paused = await thread(control, comm, aid, "pause")
        undone_state = await thread(control, comm, aid, "undo")
        ev = await peer.until(lambda m: m["type"] == "lot_undone", what="lot_undone")
        resumed = await thread(control, comm, aid, "resume")
        opened = await peer.until(lambda m: m["type"] == "lot_opened" and m["lot"]["number"] == 3,
                                  what="lot 3 opened")
        await peer.close()
        return paused, undone_state, ev, resumed, opened

    paused, st, ev, resumed, opened = run_async(go(), timeout=60)
    assert ev["auctionId"] == aid and ev["seq"] == paused["seq"] + 1
    assert {k: ev[k] for k in ("lot", "assetId", "refundedUserId", "amount")} == {
        "lot": 1, "assetId": sel[0], "refundedUserId": b.id, "amount": 8 * M}
    assert ev in log_of(comm, aid), "the socket's event is the logged event"
    assert st["status"] == "paused" and st["seq"] >= ev["seq"]
    want = fresh_managers(cfg, {p.id for p in people})
    assert managers_view(st) == want, "the refund restores budget, slot and roster"
    on_block = 1 if st["lot"] and st["lot"]["state"] in ("running", "paused") else 0
    assert st["progress"] == {"lotsTotal": 4, "lotsClosed": 1, "sold": 0, "unsold": 0,
                              "queued": 4 - on_block}, "undone lots still count as closed"
    members = {m["userId"]: m for m in comm.get(f"/api/leagues/{lg['id']}/members").json()["items"]}
    assert members[b.id]["budgetRemaining"] == cfg["budget"] and members[b.id]["roster"] == []
    # resume: the undone asset opens as lot 3 with a full clock; lot 2's asset comes after it
    assert resumed["status"] == "running"
    assert opened["lot"]["asset"]["id"] == sel[0]
    assert opened["lot"]["endsAtMs"] == opened["serverTimeMs"] + cfg["lotSeconds"] * 1000
    st = state(comm, aid)
    assert (st["lot"]["number"], st["lot"]["asset"]["id"], st["lot"]["state"]) == (3, sel[0],
                                                                                  "running")
    assert st["lot"]["endsAtMs"] == opened["lot"]["endsAtMs"]
    assert st["progress"]["queued"] == 3
    accepted(bid(a, aid, 3, 4 * M))
    control(comm, aid, "close-lot")
    st = running_lot(comm, aid, 4)
    assert st["lot"]["asset"]["id"] == sel[1], "the lot open without bids went back to the queue"
    assert manager(st, a.id)["roster"] == [
        {"assetId": sel[0], "name": opened["lot"]["asset"]["name"], "price": 4 * M, "lot": 3}]


async def running_lot_async(who, aid, number):
    return await thread(running_lot, who, aid, number)


def test_reset_restores_budgets_and_restarts_lot_numbers(server):
    """PRODUCT.md reset: back to waiting, budgets and rosters restored, lot numbers from 1 again;
    bids leave the live state (GET /bids: since the last reset) but stay in the log; seq
    continues. API.md: auction_reset event."""
    people, _, lg, sel, cfg = league_ready(server, 2, 3, rosterSize=2)
    comm, a = people
    aid = create_auction(comm, lg)["id"]

    async def go():
        peer = await Peer.connect(server, a)
        await peer.join(aid)
        await thread(control, comm, aid, "begin")
        accepted(await thread(bid, a, aid, 1, 5 * M))
        await thread(control, comm, aid, "close-lot")
        await running_lot_async(comm, aid, 2)
        accepted(await thread(bid, comm, aid, 2, 2 * M))
        before = await thread(state, comm, aid)
        after = await thread(control, comm, aid, "reset")
        ev = await peer.until(lambda m: m["type"] == "auction_reset", what="auction_reset")
        begun = await thread(control, comm, aid, "begin")
        opened = await peer.until(lambda m: m["type"] == "lot_opened" and m["seq"] > ev["seq"],
                                  what="lot_opened after the reset")
        await peer.close()
        return before, after, ev, begun, opened

    before, st, ev, begun, opened = run_async(go(), timeout=60)
    assert before["lot"]["currentBid"] == 2 * M and manager(before, a.id)["emptySlots"] == 1
    assert ev["auctionId"] == aid and ev["seq"] == before["seq"] + 1, "seq continues"
    assert st["status"] == "waiting" and st["lot"] is None and st["completedReason"] is None
    assert st["seq"] == ev["seq"]
    assert st["progress"] == {"lotsTotal": 3, "lotsClosed": 0, "sold": 0, "unsold": 0,
                              "queued": 3}
    assert managers_view(st) == fresh_managers(cfg, {comm.id, a.id})
    assert comm.get(f"/api/leagues/{lg['id']}").json()["status"] == "auction"
    log = log_of(comm, aid)
    assert [(e["lot"], e["amount"], e["leaderId"]) for e in log if e["type"] == "bid"] == [
        (1, 5 * M, a.id), (2, 2 * M, comm.id)], "the log keeps the bids a reset discarded"
    assert [e["seq"] for e in log] == list(range(1, len(log) + 1))
    # after begin again: lot numbers from 1, the first selected asset, no bids since the reset
    assert opened["seq"] == ev["seq"] + 1
    assert (opened["lot"]["number"], opened["lot"]["asset"]["id"]) == (1, sel[0])
    assert begun["lot"]["number"] == 1 and begun["lot"]["currentBid"] is None
    assert comm.get(f"/api/auctions/{aid}/bids").json()["items"] == []
    assert accepted(bid(a, aid, 1, M))["seq"] == opened["seq"] + 1


def test_end_closes_the_lot_as_it_stands_then_completes(server):
    """docs/auction.md end: the lot on the block is closed as it stands, then the auction
    completes with reason ended_by_commissioner; API.md auction_completed {reason, sold, unsold}
    (unsold includes assets never offered); the unsold remainder stays unowned."""
    people, _, lg, sel, cfg = league_ready(server, 3, 4, rosterSize=2)
    comm, a, b = people
    aid = create_auction(comm, lg)["id"]

    async def go():
        peer = await Peer.connect(server, b)
        await peer.join(aid)
        await thread(control, comm, aid, "begin")
        accepted(await thread(bid, a, aid, 1, 6 * M))
        await thread(control, comm, aid, "close-lot")
        await running_lot_async(comm, aid, 2)
        accepted(await thread(bid, b, aid, 2, 3 * M))
        before = await thread(state, comm, aid)
        ended = await thread(control, comm, aid, "end")
        done = await peer.until(lambda m: m["type"] == "auction_completed", what="completion")
        await peer.close()
        return before, ended, done, peer.events(aid)

    before, ended, done, seen = run_async(go(), timeout=60)
    after = [e for e in seen if e["seq"] > before["seq"]]
    assert [e["type"] for e in after] == ["lot_closed", "auction_completed"], after
    closed = after[0]
    assert closed["seq"] == before["seq"] + 1 and done["seq"] == before["seq"] + 2
    assert {k: closed[k] for k in ("lot", "result", "assetId", "winnerId", "price",
                                   "winnerBudgetRemaining")} == {
        "lot": 2, "result": "sold", "assetId": sel[1], "winnerId": b.id, "price": 3 * M,
        "winnerBudgetRemaining": cfg["budget"] - 3 * M}
    assert (done["reason"], done["sold"], done["unsold"]) == ("ended_by_commissioner", 2, 2)
    st = state(comm, aid)
    assert stable(st) == stable(ended)
    assert st["status"] == "completed" and st["completedReason"] == "ended_by_commissioner"
    assert st["progress"]["sold"] == 2 and st["progress"]["lotsClosed"] == 2
    assert comm.get(f"/api/leagues/{lg['id']}").json()["status"] == "season"
    owners = {x["assetId"]: (x["ownerId"], x["price"])
              for x in comm.all_items(f"/api/leagues/{lg['id']}/assets")}
    assert owners == {sel[0]: (a.id, 6 * M), sel[1]: (b.id, 3 * M), sel[2]: (None, None),
                      sel[3]: (None, None)}
    refused(comm.post(f"/api/auctions/{aid}/end"), 409, "invalid_state")
    refused(bid(a, aid, 2, 9 * M), 409, "auction_not_running")


def test_no_lots_left_completes_after_the_final_lot_is_awarded(server):
    """PRODUCT.md completion: as soon as no lot is left (reofferUnsold 0 here) with rosters not
    full -> no_lots_left; the final lot is closed and awarded before completion is announced."""
    people, _, lg, sel, cfg = league_ready(server, 2, 3, rosterSize=3, reofferUnsold=0)
    comm, a = people
    aid = create_auction(comm, lg)["id"]
    control(comm, aid, "begin")
    script = {1: (a, 2 * M), 2: None, 3: (comm, M)}
    for number, plan in script.items():
        running_lot(comm, aid, number)
        if plan:
            accepted(bid(plan[0], aid, number, plan[1]))
        control(comm, aid, "close-lot")
    st = wait_state(comm, aid, lambda s: s["status"] == "completed")
    sold = sum(1 for p in script.values() if p)
    assert st["completedReason"] == "no_lots_left"
    assert st["progress"] == {"lotsTotal": 3, "lotsClosed": 3, "sold": sold,
                              "unsold": 3 - sold, "queued": 0}
    log = log_of(comm, aid)
    types = [e["type"] for e in log]
    assert types.count("auction_completed") == 1 and types[-1] == "auction_completed"
    final = max(i for i, t in enumerate(types) if t == "lot_closed")
    assert final < types.index("auction_completed")
    assert (log[final]["lot"], log[final]["winnerId"], log[final]["price"]) == (3, comm.id, M)
    done = log[-1]
    assert (done["reason"], done["sold"], done["unsold"]) == ("no_lots_left", sold, 3 - sold)
    assert manager(st, a.id)["roster"][0]["price"] == 2 * M
    assert manager(st, comm.id)["budgetRemaining"] == cfg["budget"] - M


# ---- anti-snipe ----------------------------------------------------------------------------------


def bids_with_oracle(who, aid, window_s):
    """Checks every bid event of the log against the anti-snipe rule, from the instants the
    server recorded: the prior endsAt (the lot's opening or the previous bid) and the bid's own
    serverTimeMs. Returns the bid events."""
    log = log_of(who, aid)
    ends, out = None, []
    for e in log:
        if e["type"] == "lot_opened":
            ends = e["lot"]["endsAtMs"]
        elif e["type"] == "bid":
            want = anti_snipe_oracle(ends, e["serverTimeMs"], window_s)
            assert (e["extended"], e["endsAtMs"]) == want, (e, ends)
            ends = e["endsAtMs"]
            out.append(e)
    return out


def test_anti_snipe_outside_the_window_keeps_the_clock(server):
    people, _, lg, sel, cfg = league_ready(server, 3, 2, lotSeconds=60, antiSnipeSeconds=10)
    comm, a, b = people
    aid = create_auction(comm, lg)["id"]
    opened = control(comm, aid, "begin")["lot"]
    acks = [accepted(bid(a, aid, 1, 2 * M)), accepted(bid(b, aid, 1, 3 * M))]
    events = bids_with_oracle(comm, aid, cfg["antiSnipeSeconds"])
    # the bids came well before the window (60 s lot, 10 s window): neither extends
    assert events[-1]["serverTimeMs"] < opened["endsAtMs"] - 10_000
    assert [e["extended"] for e in events] == [False, False]
    assert [e["endsAtMs"] for e in events] == [opened["endsAtMs"]] * 2
    assert [x["endsAtMs"] for x in acks] == [e["endsAtMs"] for e in events]
    assert [x["seq"] for x in acks] == [e["seq"] for e in events]
    assert state(comm, aid)["lot"]["endsAtMs"] == opened["endsAtMs"]


def test_anti_snipe_inside_the_window_resets_the_clock_to_the_window(server):
    """A 60 s lot with a 59 s window: once the server says less than 58.5 s remain, every
    accepted bid is inside the window; endsAt becomes the bid's instant + 59 s, repeatedly."""
    people, _, lg, sel, cfg = league_ready(server, 3, 2, lotSeconds=60, antiSnipeSeconds=59)
    comm, a, b = people
    aid = create_auction(comm, lg)["id"]
    window = cfg["antiSnipeSeconds"]

    async def go():
        peer = await Peer.connect(server, comm)
        await peer.join(aid)
        await thread(control, comm, aid, "begin")
        await thread(wait_state, comm, aid,
                     lambda s: s["lot"] and s["lot"]["remainingMs"] < window * 1000 - 500, 30)
        acks = []
        for who, amount in ((a, 2 * M), (b, 3 * M), (a, 4 * M)):
            acks.append(accepted(await thread(bid, who, aid, 1, amount)))
        await peer.events_until(aid, acks[-1]["seq"])
        await peer.close()
        return acks, [e for e in peer.events(aid) if e["type"] == "bid"]

    acks, seen = run_async(go(), timeout=60)
    events = bids_with_oracle(comm, aid, window)
    assert seen == events, "the sockets saw the logged bid events"
    assert events[0]["extended"] is True, "less than the window remained"
    assert events[0]["endsAtMs"] == events[0]["serverTimeMs"] + window * 1000
    assert [x["endsAtMs"] for x in acks] == [e["endsAtMs"] for e in events]
    assert [e["leaderId"] for e in events] == [a.id, b.id, a.id]
    st = state(comm, aid)
    assert st["lot"]["endsAtMs"] == events[-1]["endsAtMs"] and st["lot"]["currentBid"] == 4 * M


# ---- re-offers and lot order ---------------------------------------------------------------------


def test_unsold_lots_come_back_with_retry(server):
    """Selection s0 s1 s2, reofferUnsold 2; lot 1 and lot 5 sell: pass 1 offers s0 s1 s2, pass 2
    the unsold s1 s2 (retry), pass 3 the still unsold s1 (retry); then no_lots_left.
    API.md intermission.nextLot is the next lot's number."""
    people, _, lg, sel, cfg = league_ready(server, 2, 3, rosterSize=3, reofferUnsold=2)
    comm, a = people
    aid = create_auction(comm, lg)["id"]
    buyers = {1: (a, 2 * M), 5: (comm, 3 * M)}
    plan = offer_plan(sel, cfg["reofferUnsold"], set(buyers))
    assert [x[1:] for x in plan] == [(sel[0], False), (sel[1], False), (sel[2], False),
                                     (sel[1], True), (sel[2], True), (sel[1], True)]
    control(comm, aid, "begin")
    for number, asset, retry in plan:
        st = running_lot(comm, aid, number)
        assert (st["lot"]["asset"]["id"], st["lot"]["retry"]) == (asset, retry), number
        if number in buyers:
            who, amount = buyers[number]
            accepted(bid(who, aid, number, amount))
        control(comm, aid, "close-lot")
    st = wait_state(comm, aid, lambda s: s["status"] == "completed")
    assert st["completedReason"] == "no_lots_left"
    log = log_of(comm, aid)
    opened = [(e["lot"]["number"], e["lot"]["asset"]["id"], e["lot"]["retry"])
              for e in log if e["type"] == "lot_opened"]
    assert opened == plan
    for i, e in enumerate(log):  # every intermission announces the lot that opens next
        if e["type"] == "intermission":
            following = next(x for x in log[i + 1:] if x["type"] == "lot_opened")
            assert e["nextLot"] == following["lot"]["number"], e
    done = log[-1]
    assert (done["type"], done["reason"], done["sold"], done["unsold"]) == (
        "auction_completed", "no_lots_left", 2, 1)
    owners = {x["assetId"]: (x["status"], x["ownerId"], x["price"])
              for x in comm.all_items(f"/api/leagues/{lg['id']}/assets")}
    assert owners == {sel[0]: ("sold", a.id, 2 * M), sel[1]: ("unsold", None, None),
                      sel[2]: ("sold", comm.id, 3 * M)}


def test_random_order_offers_every_asset_exactly_once(server):
    """PRODUCT.md lotOrder random: shuffled once at auction creation (the order is recorded):
    every selected asset comes up exactly once per pass, and a reset replays the same order."""
    n = 10
    people, _, lg, sel, cfg = league_ready(server, 2, n, rosterSize=1, lotOrder="random")
    comm, a = people
    aid = create_auction(comm, lg)["id"]

    def run_once():
        control(comm, aid, "begin")
        seen, deadline = [], time.monotonic() + 60
        while True:
            assert time.monotonic() < deadline, f"stuck after {seen}"
            st = state(comm, aid)
            if st["status"] == "completed":
                return seen, st
            lot = st["lot"]
            if lot["state"] != "running" or lot["number"] != len(seen) + 1:
                time.sleep(0.02)
                continue
            assert lot["retry"] is False
            assert st["progress"]["queued"] == n - lot["number"]
            seen.append(lot["asset"]["id"])
            control(comm, aid, "close-lot")
            assert len(seen) <= n, seen

    first, st = run_once()
    assert sorted(first) == sorted(sel) and len(set(first)) == n, first
    assert st["completedReason"] == "no_lots_left"
    assert st["progress"] == {"lotsTotal": n, "lotsClosed": n, "sold": 0, "unsold": n,
                              "queued": 0}
    opened = [e["lot"]["asset"]["id"] for e in log_of(comm, aid) if e["type"] == "lot_opened"]
    assert opened == first
    control(comm, aid, "reset")
    second, _ = run_once()
    assert second == first, "the order was shuffled once, at creation"


# ---- leagues: members, the league room, asset statuses -----------------------------------------


def test_members_role_filter(server):
    """API.md members: the default lists commissioner and managers; spectators only with
    ?role=spectator or ?role=all; memberCount counts commissioner and managers, never
    spectators; a spectator reads what a member reads."""
    people, watchers, lg, sel, cfg = league_ready(server, 3, 3, spectators=2)
    comm, m1, m2 = people
    s1, s2 = watchers
    roles = {comm.id: "commissioner", m1.id: "manager", m2.id: "manager",
             s1.id: "spectator", s2.id: "spectator"}
    path = f"/api/leagues/{lg['id']}/members"

    def listed(who, role=None):
        items = who.all_items(path, limit=2, **({"role": role} if role else {}))
        for it in items:
            assert {"userId", "name", "role", "joinedAt", "budgetRemaining", "roster"} <= set(it)
        return {it["userId"]: it["role"] for it in items}

    for who in (comm, m1, s1):
        assert listed(who) == {u: r for u, r in roles.items() if r != "spectator"}
        assert listed(who, "spectator") == {u: r for u, r in roles.items() if r == "spectator"}
        assert listed(who, "all") == roles
    got = comm.get(f"/api/leagues/{lg['id']}").json()
    assert (got["memberCount"], got["spectatorCount"]) == (3, 2)
    err = refused(comm.get(path, params={"role": "owner"}), 400, "invalid_request")
    assert err["details"]["field"] == "role"
    assert s2.call("DELETE", f"{path}/{s2.id}").status_code == 204, "a spectator can leave"
    del roles[s2.id]
    assert listed(comm, "all") == roles
    got = comm.get(f"/api/leagues/{lg['id']}").json()
    assert (got["memberCount"], got["spectatorCount"]) == (3, 1)


def test_leave_league_stops_league_events(server):
    """API.md: join_league / leave_league subscribe and unsubscribe league events. After
    leave_league a socket gets none, while a socket still in the room gets them."""
    comm, mate = Client(server), Client(server)
    lg = make_league(comm)
    assert mate.post(f"/api/invites/{lg['inviteCode']}/join").status_code == 200
    j1, j2 = Client(server), Client(server)

    async def go():
        leaver = await league_peer(server, comm, lg["id"])
        stayer = await league_peer(server, mate, lg["id"])
        await thread(j1.post, f"/api/invites/{lg['inviteCode']}/join")
        for peer in (leaver, stayer):  # both subscribed: both get it
            ev = await peer.until(lambda m: m["type"] == "member_joined", what="member_joined")
            assert (ev["userId"], ev["name"], ev["leagueId"]) == (j1.id, j1.user["name"], lg["id"])
        await leaver.send(type="leave_league", leagueId=lg["id"])
        assert await leaver.barrier() == []
        await thread(j2.post, f"/api/invites/{lg['inviteCode']}/join")
        r = await thread(comm.call, "PATCH", f"/api/leagues/{lg['id']}", {"lotSeconds": 33})
        assert r.status_code == 200, r.text
        ev = await stayer.until(lambda m: m["type"] == "member_joined", what="member_joined 2")
        assert ev["userId"] == j2.id
        ev = await stayer.until(lambda m: m["type"] == "league_updated", what="league_updated")
        assert ev["league"]["settings"]["lotSeconds"] == 33
        # the events reached the room before this ping: the one who left got none of them
        assert await leaver.barrier() == []
        await leaver.close()
        await stayer.close()

    run_async(go(), timeout=40)


def test_league_room_announces_the_auction(server):
    """API.md league events: auction_created {auctionId}."""
    people, (spec,), lg, sel, cfg = league_ready(server, 2, 3, spectators=1)
    comm, mgr = people

    async def go():
        peers = [await league_peer(server, who, lg["id"]) for who in (mgr, spec)]
        created = await thread(create_auction, comm, lg)
        for peer in peers:
            ev = await peer.until(lambda m: m["type"] == "auction_created"
                                  and m.get("leagueId") == lg["id"], what="auction_created")
            assert ev["auctionId"] == created["id"]
            await peer.close()

    run_async(go(), timeout=30)


def test_league_room_hears_the_auction_status_and_new_spectators(server):
    """The league room is told `auction_status {auctionId, status}` each time the status changes
    (begin, pause, resume, completion by the last sale, reset), once each, in order; and a new
    spectator joining by the watch code is a `member_joined` like a manager."""
    people, _, lg, sel, cfg = league_ready(server, 2, 1, rosterSize=1)
    comm, mgr = people
    viewer = Client(server)

    async def go():
        peer = await league_peer(server, mgr, lg["id"])
        aid = (await thread(create_auction, comm, lg))["id"]
        await thread(control, comm, aid, "begin")
        await thread(control, comm, aid, "pause")
        await thread(control, comm, aid, "resume")
        accepted(await thread(bid, mgr, aid, 1, M))
        await thread(control, comm, aid, "close-lot")  # the only lot: completed
        await thread(control, comm, aid, "reset")
        assert (await thread(viewer.post, f"/api/watch/{lg['watchCode']}")).status_code == 200
        assert (await thread(viewer.post, f"/api/watch/{lg['watchCode']}")).status_code == 200
        await peer.barrier()
        got = [(m["type"], m.get("status") or m.get("userId")) for m in peer.inbox
               if m["type"] in ("auction_status", "member_joined")]
        assert got == [("auction_status", "running"), ("auction_status", "paused"),
                       ("auction_status", "running"), ("auction_status", "completed"),
                       ("auction_status", "waiting"), ("member_joined", viewer.id)], got
        assert all(m["auctionId"] == aid and m["leagueId"] == lg["id"]
                   for m in peer.inbox if m["type"] == "auction_status")
        await peer.close()

    run_async(go(), timeout=30)


def test_intermission_announces_the_next_lot(server):
    """API.md intermission {nextLot, endsAtMs}; docs/auction.md: its endsAtMs is the close's
    instant (the hammer) + intermissionSeconds; during it lot.state is intermission and
    endsAtMs is when the next lot opens; the next lot's clock starts when it opens."""
    people, _, lg, sel, cfg = league_ready(server, 2, 3, intermissionSeconds=1, lotSeconds=120)
    comm, a = people
    aid = create_auction(comm, lg)["id"]
    control(comm, aid, "begin")
    accepted(bid(a, aid, 1, 2 * M))
    after = control(comm, aid, "close-lot")
    log = log_of(comm, aid)
    closed = next(e for e in log if e["type"] == "lot_closed")
    inter = next(e for e in log if e["type"] == "intermission")
    assert inter["seq"] == closed["seq"] + 1
    assert inter["nextLot"] == 2
    assert inter["endsAtMs"] == closed["serverTimeMs"] + cfg["intermissionSeconds"] * 1000
    if after["lot"]["state"] == "intermission":  # the answer to close-lot shows it
        assert after["lot"]["endsAtMs"] == inter["endsAtMs"]
        assert after["lot"]["remainingMs"] == max(0, inter["endsAtMs"] - after["serverTimeMs"])
    st = running_lot(comm, aid, 2)
    assert st["lot"]["asset"]["id"] == sel[1]
    opened = next(e for e in log_of(comm, aid) if e["type"] == "lot_opened"
                  and e["lot"]["number"] == 2)
    assert opened["serverTimeMs"] >= inter["endsAtMs"], "the next lot opens when it ends"
    assert opened["lot"]["endsAtMs"] == opened["serverTimeMs"] + cfg["lotSeconds"] * 1000
    control(comm, aid, "close-lot")
    running_lot(comm, aid, 3)
    control(comm, aid, "close-lot")
    st = wait_state(comm, aid, lambda s: s["status"] == "completed")
    log = log_of(comm, aid)
    for i, e in enumerate(log):
        if e["type"] == "intermission":
            following = [x for x in log[i + 1:] if x["type"] == "lot_opened"]
            assert e["nextLot"] == (following[0]["lot"]["number"] if following else None), e


def test_asset_statuses_with_owner_and_price(server):
    """API.md GET /api/leagues/{id}/assets: the selected assets with their status in the auction
    (available, on_block, sold, unsold), owner and price; the order is the selection's."""
    people, (spec,), lg, sel, cfg = league_ready(server, 3, 5, spectators=1)
    comm, a, b = people
    path = f"/api/leagues/{lg['id']}/assets"

    def statuses(who):
        items = who.all_items(path, limit=2)
        assert [x["assetId"] for x in items] == sel, "the selection, in order, paged"
        return {x["assetId"]: (x["status"], x["ownerId"], x["price"]) for x in items}

    assert statuses(spec) == {x: ("available", None, None) for x in sel}
    aid = create_auction(comm, lg)["id"]
    assert statuses(comm) == {x: ("available", None, None) for x in sel}
    control(comm, aid, "begin")
    accepted(bid(a, aid, 1, 4 * M))
    control(comm, aid, "close-lot")
    running_lot(comm, aid, 2)
    control(comm, aid, "close-lot")
    running_lot(comm, aid, 3)
    accepted(bid(b, aid, 3, 2 * M))
    want = {sel[0]: ("sold", a.id, 4 * M), sel[1]: ("unsold", None, None),
            sel[2]: ("on_block", None, None), sel[3]: ("available", None, None),
            sel[4]: ("available", None, None)}
    for who in (comm, a, spec):
        assert statuses(who) == want
    control(comm, aid, "close-lot")
    want[sel[2]] = ("sold", b.id, 2 * M)
    want[sel[3]] = ("on_block", None, None)
    running_lot(comm, aid, 4)
    assert statuses(b) == want


# ---- refusals ------------------------------------------------------------------------------------


def test_roster_full_refusal(server):
    """docs/auction.md: roster_full when the caller has no empty slot, checked before
    already_leading and bid_too_low; the refused bid changes nothing."""
    people, _, lg, sel, cfg = league_ready(server, 2, 3, rosterSize=1)
    comm, a = people
    aid = create_auction(comm, lg)["id"]
    control(comm, aid, "begin")
    accepted(bid(a, aid, 1, 2 * M))
    control(comm, aid, "close-lot")
    st = running_lot(comm, aid, 2)
    assert manager(st, a.id)["emptySlots"] == 0
    accepted(bid(comm, aid, 2, 5 * M))
    before = state(comm, aid)
    for amount in (5 * M, 6 * M, 400 * M):  # too low, fine, over maxBid: roster_full first
        refused(bid(a, aid, 2, amount), 409, "roster_full")
    st = state(comm, aid)
    assert stable(st) == stable(before)
    assert (st["lot"]["leaderId"], st["lot"]["currentBid"]) == (comm.id, 5 * M)


def test_locked_once_an_auction_exists(server):
    """API.md PATCH /api/leagues/{id} and PUT /assets: 409 locked once an auction exists; the
    league's settings and selection are unchanged."""
    people, _, lg, sel, cfg = league_ready(server, 2, 4, lotSeconds=40)
    comm, a = people
    afcon = [x["id"] for x in comm.all_items("/api/assets", competition="AFCON-2025")]
    create_auction(comm, lg)
    refused(comm.call("PATCH", f"/api/leagues/{lg['id']}", {"lotSeconds": 50}), 409, "locked")
    refused(comm.call("PUT", f"/api/leagues/{lg['id']}/assets", {"assetIds": afcon[4:8]}), 409,
            "locked")
    got = comm.get(f"/api/leagues/{lg['id']}").json()
    assert got["settings"]["lotSeconds"] == 40
    assert [x["assetId"] for x in comm.all_items(f"/api/leagues/{lg['id']}/assets")] == sel


def test_auction_started_refusals(server):
    """API.md: join -> 409 auction_started; DELETE member -> 409 auction_started (managers may
    leave only before the auction begins); nothing changes."""
    people, _, lg, sel, cfg = league_ready(server, 3, 3)
    comm, a, b = people
    aid = create_auction(comm, lg)["id"]
    control(comm, aid, "begin")
    late = Client(server)
    refused(late.post(f"/api/invites/{lg['inviteCode']}/join"), 409, "auction_started")
    refused(a.call("DELETE", f"/api/leagues/{lg['id']}/members/{a.id}"), 409, "auction_started")
    refused(comm.call("DELETE", f"/api/leagues/{lg['id']}/members/{b.id}"), 409,
            "auction_started")
    got = comm.get(f"/api/leagues/{lg['id']}").json()
    assert got["memberCount"] == 3
    members = {m["userId"] for m in comm.get(f"/api/leagues/{lg['id']}/members").json()["items"]}
    assert members == {comm.id, a.id, b.id}
    assert late.get(f"/api/leagues/{lg['id']}").status_code == 404, "the late user is no member"


def test_second_begin_is_invalid_state(server):
    people, _, lg, sel, cfg = league_ready(server, 2, 3)
    comm, a = people
    aid = create_auction(comm, lg)["id"]
    begun = control(comm, aid, "begin")
    refused(comm.post(f"/api/auctions/{aid}/begin"), 409, "invalid_state")
    st = state(comm, aid)
    assert stable(st) == stable(begun), "the refused begin changed nothing"
    assert [e["type"] for e in log_of(comm, aid)] == ["auction_created", "lot_opened"]


def test_equal_bids_the_first_wins_the_second_is_too_low(server):
    """PRODUCT.md: of two equal bids exactly one wins, the first to arrive; the second is judged
    against the state the first left: bid_too_low with details.minimum = amount + minIncrement."""
    people, _, lg, sel, cfg = league_ready(server, 3, 3, minIncrement=2 * M)
    comm, a, b = people
    aid = create_auction(comm, lg)["id"]
    control(comm, aid, "begin")
    # one after the other: a first
    accepted(bid(a, aid, 1, 7 * M))
    err = refused(bid(b, aid, 1, 7 * M), 409, "bid_too_low")
    assert err["details"]["minimum"] == 7 * M + cfg["minIncrement"]
    control(comm, aid, "close-lot")
    closed = [e for e in log_of(comm, aid) if e["type"] == "lot_closed"][0]
    assert (closed["winnerId"], closed["price"]) == (a.id, 7 * M)
    # at the same instant: exactly one, whichever arrived first
    running_lot(comm, aid, 2)
    gate = threading.Barrier(2)

    def place(who):
        gate.wait()
        return who, bid(who, aid, 2, 5 * M)

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(place, (b, comm)))
    wins = [who for who, r in results if r.status_code == 200]
    assert len(wins) == 1, [(w.id, r.text) for w, r in results]
    loser, lost = next((w, r) for w, r in results if r.status_code != 200)
    err = refused(lost, 409, "bid_too_low")
    assert err["details"]["minimum"] == 5 * M + cfg["minIncrement"]
    bids = comm.get(f"/api/auctions/{aid}/bids", params={"lot": 2}).json()["items"]
    assert [(x["userId"], x["amount"]) for x in bids] == [(wins[0].id, 5 * M)]
    control(comm, aid, "close-lot")
    closed = [e for e in log_of(comm, aid) if e["type"] == "lot_closed"][1]
    assert (closed["winnerId"], closed["price"]) == (wins[0].id, 5 * M)
    assert manager(state(comm, aid), loser.id)["budgetRemaining"] == cfg["budget"]


def test_malformed_bids_name_the_field(server):
    """API.md: invalid_request 400 with details.field naming the field; unknown fields are
    rejected naming the field; money is a JSON integer < 2^53. Nothing is recorded."""
    people, _, lg, sel, cfg = league_ready(server, 2, 3)
    comm, a = people
    aid = create_auction(comm, lg)["id"]
    control(comm, aid, "begin")
    before = state(comm, aid)
    good = {"lot": 1, "amount": 5 * M, "clientBidId": "cb-1"}
    cases = [
        ({k: v for k, v in good.items() if k != "lot"}, "lot"),
        ({**good, "lot": "1"}, "lot"),
        ({**good, "lot": 1.5}, "lot"),
        ({**good, "lot": None}, "lot"),
        ({**good, "lot": True}, "lot"),
        ({**good, "lot": [1]}, "lot"),
        ({k: v for k, v in good.items() if k != "amount"}, "amount"),
        ({**good, "amount": "5000000"}, "amount"),
        ({**good, "amount": 5.5}, "amount"),
        ({**good, "amount": None}, "amount"),
        ({**good, "amount": 2**53}, "amount"),
        ({**good, "amount": {"value": 5}}, "amount"),
        ({k: v for k, v in good.items() if k != "clientBidId"}, "clientBidId"),
        ({**good, "clientBidId": ""}, "clientBidId"),
        ({**good, "clientBidId": 7}, "clientBidId"),
        ({**good, "clientBidId": None}, "clientBidId"),
        ({**good, "extra": 1}, "extra"),
        ({**good, "userId": a.id}, "userId"),
    ]
    wrong = []
    for body, field in cases:
        r = a.post(f"/api/auctions/{aid}/bids", body)
        err = r.json().get("error", {})
        if (r.status_code, err.get("code"), (err.get("details") or {}).get("field")) != (
                400, "invalid_request", field):
            wrong.append((body, r.status_code, err))
    assert wrong == [], f"each bad field is invalid_request naming it; wrong: {wrong}"
    # an integer beyond 64 bits is refused by the JSON reader itself: invalid_json, said plainly
    r = a.post(f"/api/auctions/{aid}/bids", {**good, "amount": 10**30})
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_json", r.text
    assert "too large" in r.json()["error"]["message"], r.text
    assert a.get(f"/api/auctions/{aid}/bids").json()["items"] == []
    st = state(comm, aid)
    assert stable(st) == stable(before), "no malformed bid touched the auction"
    assert accepted(bid(a, aid, 1, 5 * M))["seq"] == before["seq"] + 1


def test_malformed_bid_error_precedence(server):
    """API.md error precedence, for every endpoint: 401 -> 404/403 membership -> 403 role ->
    409 state -> 400 field validation. A bid with a bad field from a spectator is 403
    not_a_manager; from a manager while the auction is not running, 409 auction_not_running."""
    people, (spec,), lg, sel, cfg = league_ready(server, 2, 3, spectators=1)
    comm, a = people
    outsider = Client(server)
    aid = create_auction(comm, lg)["id"]
    bad = {"lot": "1", "amount": 5 * M, "clientBidId": "prec-1"}
    path = f"/api/auctions/{aid}/bids"
    got = []

    def check(who, status, code, when):
        r = who.post(path, bad)
        got.append((when, r.status_code, r.json()["error"]["code"], status, code))

    check(outsider, 404, "not_found", "outsider")
    check(a, 409, "auction_not_running", "manager, waiting")
    control(comm, aid, "begin")
    check(spec, 403, "not_a_manager", "spectator, running")
    control(comm, aid, "pause")
    check(a, 409, "auction_not_running", "manager, paused")
    control(comm, aid, "resume")
    check(a, 400, "invalid_request", "manager, running")
    wrong = [g for g in got if g[1:3] != g[3:5]]
    assert wrong == [], f"(when, got status, got code, want status, want code): {wrong}"
    assert comm.get(f"/api/auctions/{aid}/bids").json()["items"] == []


# ---- results -------------------------------------------------------------------------------------


def test_results_per_manager(server):
    """API.md GET /api/auctions/{id}/results: per lot number, asset, result, winner, price; per
    manager roster, spent, remaining -- computed here from the bids the test made."""
    people, _, lg, sel, cfg = league_ready(server, 3, 5, budget=50 * M, rosterSize=2)
    comm, a, b = people
    aid = create_auction(comm, lg)["id"]
    script = {1: [(a, 3 * M), (b, 5 * M)], 2: [(comm, 2 * M)],
              3: [(a, 7 * M), (comm, 9 * M), (a, 12 * M)], 4: [], 5: [(b, 4 * M)]}
    control(comm, aid, "begin")
    for number, bids in script.items():
        running_lot(comm, aid, number)
        for who, amount in bids:
            accepted(bid(who, aid, number, amount))
        control(comm, aid, "close-lot")
    st = wait_state(comm, aid, lambda s: s["status"] == "completed")
    # the oracle: the last accepted bid of a lot wins it at its amount
    won = {n: bids[-1] for n, bids in script.items() if bids}
    want_lots = [(n, sel[n - 1], "sold" if n in won else "unsold",
                  won[n][0].id if n in won else None, won[n][1] if n in won else None)
                 for n in script]
    want_managers = {}
    for p in people:
        roster = [(sel[n - 1], amount, n) for n, (who, amount) in won.items() if who is p]
        spent = sum(x[1] for x in roster)
        want_managers[p.id] = (roster, spent, cfg["budget"] - spent)
    for who in (comm, a, b):
        res = who.get(f"/api/auctions/{aid}/results")
        assert res.status_code == 200, res.text
        res = res.json()
        got_lots = [(x["lot"], x["assetId"], x["result"], x["winnerId"], x["price"])
                    for x in res["lots"]]
        assert got_lots == want_lots
        got_managers = {m["userId"]: ([(x["assetId"], x["price"], x["lot"]) for x in m["roster"]],
                                      m["spent"], m["remaining"]) for m in res["managers"]}
        assert got_managers == want_managers
    for p in people:  # the live state and the members list agree with the results
        roster, spent, remaining = want_managers[p.id]
        m = manager(st, p.id)
        assert m["budgetRemaining"] == remaining
        assert m["emptySlots"] == cfg["rosterSize"] - len(roster)
    members = {m["userId"]: m for m in comm.get(f"/api/leagues/{lg['id']}/members").json()["items"]}
    for uid, (roster, spent, remaining) in want_managers.items():
        assert members[uid]["budgetRemaining"] == remaining
        assert sorted((x["assetId"], x["price"]) for x in members[uid]["roster"]) == sorted(
            (x[0], x[1]) for x in roster)
    text = a.get(f"/api/auctions/{aid}/results", params={"format": "csv"}).text
    rows = list(csv.reader(io.StringIO(text)))
    assert len(rows) == 1 + len(script), rows
    for row, (n, asset, result, winner, price) in zip(rows[1:], want_lots):
        assert str(n) in row and asset in row and result in row, row
        if winner:
            assert winner in row and str(price) in row, row


# ---- a deleted auction's timers ------------------------------------------------------------------


def test_deleted_auction_fires_no_timer(server):
    """API.md DELETE /api/auctions/{id} -> 204 and auction_deleted to the room; afterwards
    nothing of it may happen. X (5 s lot, with a bid) is deleted; Y, begun after X with the same
    lot length, closes its lot by its own timer, which is due no earlier than X's would have
    been: when Y's lot_closed has arrived (and a ping after it), X's deadline has passed, and no
    event of X, no sale and no event in the league's next auction may exist."""
    px, _, lx, selx, cfg = league_ready(server, 2, 3, lotSeconds=5)
    py, _, ly, sely, _ = league_ready(server, 1, 3, lotSeconds=5)
    comm, a = px
    xid = create_auction(comm, lx)["id"]
    yid = create_auction(py[0], ly)["id"]

    async def go():
        peer = await Peer.connect(server, comm)
        assert (await peer.join(xid))["type"] == "snapshot"
        ypeer = await Peer.connect(server, py[0])
        assert (await ypeer.join(yid))["type"] == "snapshot"
        xst = await thread(control, comm, xid, "begin")
        accepted(await thread(bid, a, xid, 1, 3 * M))
        yst = await thread(control, py[0], yid, "begin")
        assert yst["lot"]["endsAtMs"] >= xst["lot"]["endsAtMs"]
        r = await thread(comm.call, "DELETE", f"/api/auctions/{xid}")
        assert r.status_code == 204, r.text
        gone = await peer.until(lambda m: m["type"] == "auction_deleted", what="auction_deleted")
        assert gone["auctionId"] == xid
        x2 = await thread(create_auction, comm, lx)
        assert (await peer.join(x2["id"]))["type"] == "snapshot"
        # the barrier: Y's lot closes by its timer (no earlier than X's deadline), then a ping
        closed = await ypeer.until(lambda m: m["type"] == "lot_closed", timeout=30,
                                   what="Y's lot closed by its timer")
        assert closed["serverTimeMs"] >= xst["lot"]["endsAtMs"]
        await peer.barrier()
        await peer.close()
        await ypeer.close()
        after = peer.inbox[peer.inbox.index(gone) + 1:]
        return gone, x2, after

    gone, x2, after = run_async(go(), timeout=60)
    assert [m for m in after if m.get("auctionId") == xid] == [], "X is gone: no event of it"
    assert [m["type"] for m in after if m.get("auctionId") == x2["id"]
            and m["type"] in AUCTION_EVENTS] == [], "the new auction had nothing happen"
    assert [e["type"] for e in log_of(comm, x2["id"])] == ["auction_created"]
    assert comm.get(f"/api/auctions/{xid}").status_code == 404
    assert comm.get(f"/api/auctions/{xid}/events").status_code == 404
    st = state(comm, x2["id"])
    assert st["status"] == "waiting" and st["seq"] == 1
    assert managers_view(st) == fresh_managers(cfg, {comm.id, a.id}), "no ghost sale"
    members = {m["userId"]: m for m in comm.get(f"/api/leagues/{lx['id']}/members").json()["items"]}
    assert members[a.id]["roster"] == [] and members[a.id]["budgetRemaining"] == cfg["budget"]


# ---- rate limits ---------------------------------------------------------------------------------


def retry_after(r):
    value = r.headers.get("Retry-After")
    assert value is not None and value.isdigit(), r.headers
    return int(value)


def test_bids_are_limited_to_20_per_second_per_user(start_server):
    """API.md rate limits: bids 20/s per user -> 429 rate_limited with Retry-After (WebSocket:
    the same code). The oracle is a token bucket of 20 refilled at 20/s: between 20 and
    20 + 20 x elapsed attempts are admitted before the first refusal; a token is back within
    1/20 s, so Retry-After (whole seconds, rounded up) is 1. Another user is not limited."""
    srv = start_server("--rate-limit-scale", 1)
    people, lg, st, _ = setup_auction(srv, 3, rosterSize=2)
    aid, (comm, a, b) = st["id"], people
    url = f"{srv.url}/api/auctions/{aid}/bids"
    session = requests.Session()

    def attempt(who, amount):
        return session.post(url, headers=bearer(who.token), timeout=TIMEOUT,
                            json={"lot": 1, "amount": amount, "clientBidId": uuid.uuid4().hex})

    admitted, amount, start = [], 2 * M, time.monotonic()
    while True:
        r = attempt(a, amount)
        if r.status_code == 429:
            break
        admitted.append(r)
        assert len(admitted) <= 20 + 20 * (time.monotonic() - start) + 1, "no limit applied"
        assert len(admitted) < 2000, "never limited"
        amount += M
    assert len(admitted) >= 20, f"refused after {len(admitted)} of a burst of 20"
    accepted(admitted[0])
    for x in admitted[1:]:  # the limiter counts attempts; the engine judged these
        refused(x, 409, "already_leading")
    refused(r, 429, "rate_limited")
    assert retry_after(r) == 1
    accepted(attempt(b, amount + M))  # per user: b has a full bucket
    bids = comm.get(f"/api/auctions/{aid}/bids").json()["items"]
    assert [(x["userId"], x["amount"]) for x in bids] == [(a.id, 2 * M), (b.id, amount + M)]
    # a is admitted again once a token is back
    back = wait_for(lambda: attempt(a, amount + 2 * M).status_code != 429, timeout=5)
    assert back, "a bucket refills at 20/s"
    assert state(comm, aid)["lot"]["leaderId"] == a.id

    async def over_ws():  # the commissioner bursts over the WebSocket: the same limit
        peer = await Peer.connect(srv, comm)
        n, base = 100, amount + 10 * M
        ids = [f"ws-{i}" for i in range(n)]
        t0 = time.monotonic()
        for i, cbid in enumerate(ids):
            await peer.send(type="bid", auctionId=aid, lot=1, amount=base + i * M,
                            clientBidId=cbid)
        results = {}
        while len(results) < n:
            m = await peer.until(lambda m: m["type"] == "bid_result", what="bid results")
            results[m["clientBidId"]] = m
        elapsed = time.monotonic() - t0
        await peer.close()
        return [results[c] for c in ids], elapsed

    results, elapsed = run_async(over_ws(), timeout=60)
    limited = [m for m in results if m.get("code") == "rate_limited"]
    passed = [m for m in results if m.get("code") != "rate_limited"]
    assert all(m["accepted"] is False for m in limited)
    assert 20 <= len(passed) <= 20 + 20 * elapsed + 1, (len(passed), elapsed)
    assert passed[0]["accepted"] is True
    assert {m.get("code") for m in passed[1:]} == {"already_leading"}


def test_league_creation_is_limited_to_10_per_hour_per_user(start_server):
    """API.md: league creation 10/hour per user -> 429 rate_limited with Retry-After. A bucket of
    10 refilled at 10/3600 s: exactly 10 creations pass within the test, the 11th waits for one
    token: 360 s minus what refilled since the first creation."""
    srv = start_server("--rate-limit-scale", 1)
    u, v = Client(srv), Client(srv)
    start = time.monotonic()
    made = [make_league(u, name=f"Limited {i}")["id"] for i in range(10)]
    r = u.post("/api/leagues", {"name": "One too many", "sport": "football",
                                "competition": "AFCON-2025"})
    elapsed = time.monotonic() - start
    refused(r, 429, "rate_limited")
    assert 360 - elapsed - 1 <= retry_after(r) <= 360, (retry_after(r), elapsed)
    mine = u.all_items("/api/leagues")
    assert sorted(x["id"] for x in mine) == sorted(made), "the refused league does not exist"
    assert make_league(v, name="Another user")["commissionerId"] == v.id, "per user"


def test_verify_failures_are_limited_per_email(start_server):
    """API.md: verify ... 10 failures per e-mail per 15 min; every failure (a wrong token or a
    wrong code) counts; then even the right code is 429 rate_limited with Retry-After: one
    failure comes back every 90 s. Another e-mail is not affected."""
    srv = start_server("--rate-limit-scale", 1)
    addr, other = fresh_email(), fresh_email()
    link = request_link(srv, addr)
    other_link = request_link(srv, other)
    wrong_code = next(c * 8 for c in ALPHABET if c * 8 != link["devCode"].upper())
    start = time.monotonic()
    for i in range(10):
        body = {"email": addr, "token": "x" * 43} if i % 2 else {"email": addr, "code": wrong_code}
        r = post(srv, "/api/auth/verify", body)
        refused(r, 401, "invalid_token")
    r = post(srv, "/api/auth/verify", {"email": addr, "code": link["devCode"]})
    elapsed = time.monotonic() - start
    refused(r, 429, "rate_limited")
    assert 90 - elapsed - 1 <= retry_after(r) <= 90, (retry_after(r), elapsed)
    r = post(srv, "/api/auth/verify", {"email": other, "token": other_link["devToken"]})
    assert r.status_code == 200 and r.json()["user"]["email"] == other, r.text


# ---- readiness, restart --------------------------------------------------------------------------


def test_ready_is_answered_only_after_recovery(start_server):
    """API.md GET /api/ready: 200 once migrations ran and the engine recovered auctions, 503
    before. The server binds its listener only after recovery (it prints its port then), so no
    request can reach it earlier: the 503 "before" cannot be observed from outside, and what is
    checked is that the very first answer is 200 and the auctions are recovered at that moment
    (the 503 of a stopping server is the next test)."""
    srv = start_server()
    people, lg, st, _ = setup_auction(srv, 2, lotSeconds=600)
    aid, (comm, a) = st["id"], people
    accepted(bid(a, aid, 1, 3 * M))
    p2, lg2, st2, _ = setup_auction(srv, 2, lotSeconds=600)
    pid = st2["id"]
    accepted(bid(p2[1], pid, 1, 2 * M))
    control(p2[0], pid, "pause")
    before = {aid: state(comm, aid), pid: state(p2[0], pid)}
    srv.stop_and_check()
    srv = start_server.restart(srv)
    r = srv.get("/api/ready")
    assert r.status == 200, r
    for p in people + p2:
        p.server = srv
    for who, x in ((comm, aid), (p2[0], pid)):
        assert stable(state(who, x)) == stable(before[x]), "recovered before ready"


def test_ready_is_503_while_shutting_down(start_server):
    """docs/operations.md: SIGTERM -> readiness turns 503 (in-flight requests finish). A request
    whose head is half sent when the signal arrives is in flight: it is answered 503."""
    srv = start_server()
    with srv.connect() as conn:
        # one write: a whole request and the start of the next; the answer to the first
        # proves the server has read both
        conn.send(b"GET /api/ready HTTP/1.1\r\nHost: x\r\n\r\n"
                  b"GET /api/ready HTTP/1.1\r\nHost: x\r\n")
        first = conn.read_response()
        assert first.status == 200, first
        srv.send_signal(signal.SIGTERM)
        assert wait_for(lambda: "shutdown signal" in srv.log(), timeout=10), srv.log()
        conn.send(b"\r\n")
        second = conn.read_response()
        assert second.status == 503, second
    assert srv.wait() == 0


def test_paused_auction_survives_restarts(start_server):
    """PRODUCT.md server restart: paused auctions stay paused; resume restores exactly the
    frozen remaining time. Checked after a clean stop and after kill -9."""
    srv = start_server()
    people, lg, st, _ = setup_auction(srv, 2, lotSeconds=120)
    aid, (comm, a) = st["id"], people
    opened = st["lot"]
    accepted(bid(a, aid, 1, 3 * M))
    paused = control(comm, aid, "pause")
    frozen = paused["lot"]["remainingMs"]
    pause_ev = [e for e in log_of(comm, aid) if e["type"] == "paused"][-1]
    assert pause_ev["remainingMs"] == frozen == opened["endsAtMs"] - pause_ev["serverTimeMs"]
    for how in ("stop", "crash"):
        if how == "stop":
            srv.stop_and_check()
        srv = start_server.restart(srv)  # crashes a running server first (kill -9)
        for p in people:
            p.server = srv
        st = state(comm, aid)
        assert st["status"] == "paused", how
        assert st["lot"]["endsAtMs"] is None and st["lot"]["remainingMs"] == frozen, how
        assert (st["lot"]["number"], st["lot"]["currentBid"], st["lot"]["leaderId"]) == (
            1, 3 * M, a.id), how
        assert stable(st) == stable(paused), how
        refused(bid(comm, aid, 1, 4 * M), 409, "auction_not_running")
    resumed = control(comm, aid, "resume")
    ev = [e for e in log_of(comm, aid) if e["type"] == "resumed"][-1]
    assert ev["endsAtMs"] == ev["serverTimeMs"] + frozen
    assert resumed["status"] == "running" and resumed["lot"]["endsAtMs"] == ev["endsAtMs"]
    ack = accepted(bid(comm, aid, 1, 4 * M))
    assert ack["endsAtMs"] == ev["endsAtMs"]


# ---- OpenAPI -------------------------------------------------------------------------------------

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
_METHOD_RE = "|".join(METHODS)


def api_md():
    """The contract's API.md: $GAVEL_API_MD, else ../shared/spec/API.md beside the repository.
    None in a clean clone that has no ../shared."""
    for candidate in (os.environ.get("GAVEL_API_MD"), REPO.parent / "shared" / "spec" / "API.md"):
        if candidate and Path(candidate).is_file():
            return Path(candidate).read_text()
    return None


def norm(path):
    return re.sub(r"\{[^}]*\}", "{}", path)


def contract_routes(text):
    """(method, path) of every route in API.md's tables (planned rows left out) and the
    WebSocket heading. Cells look like `GET /api/x?q=`, `POST /api/x (CSV or JSON)`,
    `GET /api/x[?format=csv]`, `POST /api/a/{id}/begin, /pause, /end`, `GET /api/x / PUT`."""
    routes = set()
    for line in text.splitlines():
        if not line.startswith("|"):
            continue
        cell = line.split("|")[1].strip()
        if "planned" in cell:
            continue
        m = re.match(rf"((?:{_METHOD_RE})(?:\s*,\s*(?:{_METHOD_RE}))*)\s+(/[^\s,\[?]*)(.*)", cell)
        if not m:
            continue
        methods = re.findall(_METHOD_RE, m.group(1))
        path, rest = m.group(2), m.group(3)
        paths = [path] + [path.rsplit("/", 1)[0] + s for s in re.findall(r",\s*(/[\w-]+)", rest)]
        methods += re.findall(rf"/\s+({_METHOD_RE})\b", rest)
        routes |= {(meth, norm(p)) for p in paths for meth in methods}
    for m in re.finditer(rf"^##.*`({_METHOD_RE}) (/\S+)`", text, re.M):
        routes.add((m.group(1), norm(m.group(2))))
    return routes


def openapi_routes(doc):
    return {(meth.upper(), norm(path)) for path, ops in doc["paths"].items()
            for meth in ops if meth.upper() in METHODS}


def router_routes():
    """The routes the server registers (src/api/*.c: router_add calls and route tables)."""
    found = set()
    for src in sorted((REPO / "src" / "api").glob("*.c")):
        for meth, path in re.findall(r"HTTP_M_([A-Z]+),\s*\"(/[^\"]*)\"", src.read_text()):
            found.add((meth, norm(path)))
    return found


def served_openapi(server):
    r = server.get("/api/openapi.json")
    assert r.status == 200 and r.header("content-type").startswith("application/json"), r
    doc = r.json()
    assert doc["openapi"].startswith("3.")
    return doc


def test_openapi_describes_every_route_of_the_contract(server):
    """API.md: GET /api/openapi.json is the OpenAPI 3 description of this API: every route of
    API.md's tables is in it with its method. In a clean clone without ../shared/spec/API.md
    the project's committed description (docs/openapi.json) stands in for the contract: the
    served document must then be exactly it (the router is checked by the next test)."""
    served = openapi_routes(served_openapi(server))
    text = api_md()
    if text is not None:
        contract = contract_routes(text)
        # the parser itself: a few routes of every shape must have come out of the tables
        for route in [("GET", "/api/health"), ("GET", "/api/competitions"),
                      ("POST", "/api/admin/assets"), ("POST", "/api/auctions/{}/close-lot"),
                      ("POST", "/api/auctions/{}/end"), ("PUT", "/api/leagues/{}/scoring"),
                      ("GET", "/api/auctions/{}/results"), ("GET", "/ws")]:
            assert route in contract, route
        assert len(contract) >= 45 and not any("planned" in p for _, p in contract)
        assert ("POST", "/api/auctions/{}/nominate") not in contract, "planned rows left out"
    else:
        contract = openapi_routes(json.loads((REPO / "docs" / "openapi.json").read_text()))
        assert served == contract, "the served description is the committed one"
    missing = sorted(contract - served)
    assert not missing, f"routes of the contract missing from /api/openapi.json: {missing}"


def test_openapi_and_router_agree(server):
    """Every route the server answers is described in /api/openapi.json, and every described
    route is one the server answers (router: src/api/*.c)."""
    served = openapi_routes(served_openapi(server))
    routed = router_routes()
    assert ("POST", "/api/auctions/{}/bids") in routed and len(routed) >= 45, "router parsed"
    undocumented, unrouted = sorted(routed - served), sorted(served - routed)
    assert undocumented == [], f"routed but not in the OpenAPI description: {undocumented}"
    assert unrouted == [], f"described but not routed: {unrouted}"
