"""Versioned schema migrations, applied in order; `PRAGMA user_version` holds the version.

Never edit a migration that has shipped: add a new one at the end.
"""

from __future__ import annotations

MIGRATIONS: tuple[str, ...] = (
    # 1: papers and the days they trended.
    """
    CREATE TABLE papers (
        pk          INTEGER PRIMARY KEY,
        id          TEXT NOT NULL UNIQUE,
        arxiv_id    TEXT,           -- when known, `id` is the arXiv id too (and indexed)
        title_hash  INTEGER NOT NULL,  -- 64-bit hash of the normalised title
        title       TEXT NOT NULL,
        abstract    TEXT NOT NULL DEFAULT '',
        authors     TEXT NOT NULL DEFAULT '[]',
        published   TEXT,
        links       TEXT NOT NULL DEFAULT '[]',
        code_links  TEXT NOT NULL DEFAULT '[]',
        categories  TEXT NOT NULL DEFAULT '[]',
        signals     TEXT NOT NULL DEFAULT '{}',
        signals_at  TEXT,
        sources     TEXT NOT NULL DEFAULT '[]',
        first_seen  TEXT NOT NULL,
        updated_at  TEXT NOT NULL,
        seq         INTEGER NOT NULL
    );
    CREATE INDEX papers_title_hash ON papers(title_hash);
    CREATE INDEX papers_seq ON papers(seq);
    CREATE TABLE trending (
        day       TEXT NOT NULL,
        source    TEXT NOT NULL,
        paper_pk  INTEGER NOT NULL REFERENCES papers(pk),
        rank      INTEGER NOT NULL,
        upvotes   INTEGER,
        PRIMARY KEY (day, source, paper_pk)
    ) WITHOUT ROWID;
    """,
    # 2: what was already sent where, so no destination sees a paper twice.
    """
    CREATE TABLE sent_papers (
        destination TEXT NOT NULL,
        paper_pk    INTEGER NOT NULL REFERENCES papers(pk),
        sent_at     TEXT NOT NULL,
        PRIMARY KEY (destination, paper_pk)
    ) WITHOUT ROWID;
    CREATE INDEX trending_paper ON trending(paper_pk);
    """,
    # 3: how each day's list from each source is filling in, and when it became complete.
    """
    CREATE TABLE day_lists (
        day          TEXT NOT NULL,
        source       TEXT NOT NULL,
        size         INTEGER NOT NULL,
        grew_at      TEXT NOT NULL,
        fetched_at   TEXT NOT NULL,
        complete_at  TEXT,
        PRIMARY KEY (day, source)
    ) WITHOUT ROWID;
    INSERT INTO day_lists (day, source, size, grew_at, fetched_at, complete_at)
        SELECT day, source, count(*), strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now'),
            strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now'), strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now')
        FROM trending GROUP BY day, source;
    """,
    # 4: channels that asked for a daily digest, and each scheduled (or asked-for) run.
    """
    CREATE TABLE channel_digests (
        destination TEXT PRIMARY KEY,
        enabled     INTEGER NOT NULL,
        time        TEXT NOT NULL,
        timezone    TEXT NOT NULL,
        weekdays    TEXT NOT NULL,
        size        INTEGER NOT NULL,
        topic       TEXT,
        format      TEXT NOT NULL,
        covers      TEXT NOT NULL,
        updated_at  TEXT NOT NULL,
        updated_by  TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE digest_runs (
        destination  TEXT NOT NULL,
        run_day      TEXT NOT NULL,
        started_at   TEXT NOT NULL,
        finished_at  TEXT,
        list_day     TEXT,
        posted       INTEGER NOT NULL DEFAULT 0,
        outcome      TEXT NOT NULL,
        detail       TEXT,
        PRIMARY KEY (destination, run_day)
    ) WITHOUT ROWID;
    """,
    # 5: destinations a platform refused for good (stopped until a manager turns them on).
    """
    CREATE TABLE destinations (
        destination      TEXT PRIMARY KEY,
        stopped_at       TEXT,
        error            TEXT,
        last_success_at  TEXT,
        last_error_at    TEXT
    ) WITHOUT ROWID;
    """,
    # 6: search queries behind "Next" buttons whose ids are too short to hold them (Discord).
    """
    CREATE TABLE saved_queries (
        key         TEXT PRIMARY KEY,
        query       TEXT NOT NULL,
        created_at  TEXT NOT NULL
    ) WITHOUT ROWID;
    """,
    # 7: per-user topic subscriptions, their delivery settings, and matches waiting for it.
    """
    CREATE TABLE subscriptions (
        id           INTEGER PRIMARY KEY,
        owner        TEXT NOT NULL,
        topic        TEXT NOT NULL,
        created_at   TEXT NOT NULL,
        last_match_at     TEXT,
        last_match_title  TEXT,
        UNIQUE (owner, topic)
    );
    CREATE TABLE alert_settings (
        owner         TEXT PRIMARY KEY,
        time          TEXT NOT NULL,
        timezone      TEXT NOT NULL,
        paused_until  TEXT,
        updated_at    TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE pending_matches (
        owner            TEXT NOT NULL,
        paper_pk         INTEGER NOT NULL REFERENCES papers(pk),
        subscription_id  INTEGER NOT NULL,
        matched_at       TEXT NOT NULL,
        PRIMARY KEY (owner, paper_pk)
    ) WITHOUT ROWID;
    CREATE TABLE matched_lists (
        day         TEXT NOT NULL,
        source      TEXT NOT NULL,
        matched_at  TEXT NOT NULL,
        PRIMARY KEY (day, source)
    ) WITHOUT ROWID;
    """,
    # 8: the outbox: every channel message and direct message, kept until delivered.
    """
    CREATE TABLE outbox (
        id               INTEGER PRIMARY KEY,
        destination      TEXT NOT NULL,
        reply            TEXT NOT NULL,
        paper_ids        TEXT NOT NULL,
        created_at       TEXT NOT NULL,
        state            TEXT NOT NULL,
        attempts         INTEGER NOT NULL DEFAULT 0,
        next_attempt_at  TEXT NOT NULL,
        last_error       TEXT,
        platform_ids     TEXT,
        sent_at          TEXT,
        run_day          TEXT  -- the digest or alert run it settles, if any
    );
    CREATE INDEX outbox_queue ON outbox(state, destination, id);
    """,
    # 9: what waits in the outbox, by destination, without reading what was delivered or
    # dropped; and where a command's reply goes (a response URL or an interaction token,
    # JSON), so that the reply outlives a restart until the platform lets it expire.
    """
    CREATE INDEX outbox_waiting ON outbox(destination, id) WHERE state IN ('pending', 'sending');
    ALTER TABLE outbox ADD COLUMN handle TEXT;
    """,
    # 10: a paper's latest version where its source numbers them (arXiv, bioRxiv), and its
    # authors' affiliations (JSON, one per author) apart from their names.
    """
    ALTER TABLE papers ADD COLUMN version INTEGER;
    ALTER TABLE papers ADD COLUMN affiliations TEXT NOT NULL DEFAULT '[]';
    """,
    # 11: an outbox message's sends begun (a request of it left: it may have arrived) apart
    # from its attempts (sends that failed), which set the backoff. Until now one count held
    # both: a waiting message's sends are taken to be what it counted.
    """
    ALTER TABLE outbox ADD COLUMN sends INTEGER NOT NULL DEFAULT 0;
    UPDATE outbox SET sends = attempts WHERE state IN ('pending', 'sending');
    """,
    # 12: the processes sharing the database (heartbeats), for `paperwire status`.
    """
    CREATE TABLE processes (
        process     TEXT PRIMARY KEY,
        started_at  TEXT NOT NULL,
        seen_at     TEXT NOT NULL,
        leader      INTEGER NOT NULL,
        detail      TEXT NOT NULL DEFAULT ''
    ) WITHOUT ROWID;
    """,
    # 13: Slack workspaces that installed the app through OAuth (their bot tokens; none
    # once uninstalled, until their data is forgotten), and the OAuth flow's states.
    """
    CREATE TABLE slack_installations (
        team_id           TEXT PRIMARY KEY,
        bot_token         TEXT,
        bot_id            TEXT NOT NULL,
        bot_user_id       TEXT NOT NULL,
        installed_at      TEXT NOT NULL,
        enterprise_id     TEXT,
        team_name         TEXT,
        app_id            TEXT,
        scopes            TEXT NOT NULL DEFAULT '',
        installer         TEXT,
        refresh_token     TEXT,
        token_expires_at  TEXT,
        uninstalled_at    TEXT
    ) WITHOUT ROWID;
    CREATE TABLE slack_oauth_states (
        state       TEXT PRIMARY KEY,
        expires_at  TEXT NOT NULL
    ) WITHOUT ROWID;
    """,
    # 14: a channel's votes on its digests' papers (+1 "More like this", -1 "Not for us"):
    # one per user and paper in each channel; the user's key (`slack:T1:@U1`) to change,
    # remove or forget their own.
    """
    CREATE TABLE votes (
        destination  TEXT NOT NULL,
        paper_pk     INTEGER NOT NULL REFERENCES papers(pk),
        user_key     TEXT NOT NULL,
        value        INTEGER NOT NULL CHECK (value IN (-1, 1)),
        voted_at     TEXT NOT NULL,
        PRIMARY KEY (destination, paper_pk, user_key)
    ) WITHOUT ROWID;
    CREATE INDEX votes_by_user ON votes(user_key);
    """,
    # 15: users' reading lists: the papers each saved (the owner is the user's direct
    # messages' key, `slack:T1:@U1`), when, and their tags (JSON).
    """
    CREATE TABLE saved_papers (
        owner     TEXT NOT NULL,
        paper_pk  INTEGER NOT NULL REFERENCES papers(pk),
        saved_at  TEXT NOT NULL,
        tags      TEXT NOT NULL DEFAULT '[]',
        PRIMARY KEY (owner, paper_pk)
    ) WITHOUT ROWID;
    """,
    # 16: whether a channel's votes re-rank its digest ("taste"), on unless turned off.
    """
    ALTER TABLE channel_digests ADD COLUMN taste INTEGER NOT NULL DEFAULT 1;
    """,
    # 17: where a paper was published (its DOI, its journal reference); the changes an
    # ingest saw to a saved paper (a new version, a journal reference, a DOI), each once;
    # and which of them each saver was told (in the alert that was queued).
    """
    ALTER TABLE papers ADD COLUMN doi TEXT;
    ALTER TABLE papers ADD COLUMN journal_ref TEXT;
    CREATE TABLE paper_changes (
        id        INTEGER PRIMARY KEY,
        paper_pk  INTEGER NOT NULL REFERENCES papers(pk),
        kind      TEXT NOT NULL,  -- 'version', 'journal_ref' or 'doi'
        value     TEXT NOT NULL,
        seen_at   TEXT NOT NULL,
        UNIQUE (paper_pk, kind, value)
    );
    CREATE TABLE saved_notices (
        owner         TEXT NOT NULL,
        change_id     INTEGER NOT NULL REFERENCES paper_changes(id),
        delivered_at  TEXT NOT NULL,
        PRIMARY KEY (owner, change_id)
    ) WITHOUT ROWID;
    CREATE INDEX saved_papers_paper ON saved_papers(paper_pk);
    """,
    # 18: a channel's weekly recap: its weekday (NULL: none), its time (NULL: the digest's)
    # and the channel's name for the chart's title. Its runs are digest runs keyed
    # `<destination>#recap`, on the Monday of the recap's week.
    """
    ALTER TABLE channel_digests ADD COLUMN recap_day TEXT;
    ALTER TABLE channel_digests ADD COLUMN recap_time TEXT;
    ALTER TABLE channel_digests ADD COLUMN recap_name TEXT;
    """,
)

LATEST_VERSION = len(MIGRATIONS)
