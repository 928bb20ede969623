"""Versioned PostgreSQL schema migrations, applied in order; `paperwire_schema` holds the
versions applied. Version 1 is the SQLite schema at its version 11, in PostgreSQL's types.

Never edit a migration that has shipped: add a new one at the end.
"""

from __future__ import annotations

MIGRATIONS: tuple[str, ...] = (
    # 1: everything the SQLite backend has at its schema version 11.
    """
    CREATE TABLE papers (
        pk            bigint PRIMARY KEY,
        id            text NOT NULL UNIQUE,
        arxiv_id      text,
        title_hash    bigint NOT NULL,
        title         text NOT NULL,
        abstract      text NOT NULL DEFAULT '',
        authors       jsonb NOT NULL DEFAULT '[]',
        published     date,
        links         jsonb NOT NULL DEFAULT '[]',
        code_links    jsonb NOT NULL DEFAULT '[]',
        categories    jsonb NOT NULL DEFAULT '[]',
        signals       jsonb NOT NULL DEFAULT '{}',
        signals_at    text,  -- ISO time of the observation the signals came from
        sources       jsonb NOT NULL DEFAULT '[]',
        first_seen    timestamptz NOT NULL,
        updated_at    timestamptz NOT NULL,
        seq           bigint NOT NULL,
        version       integer,
        affiliations  jsonb NOT NULL DEFAULT '[]'
    );
    CREATE INDEX papers_title_hash ON papers (title_hash);
    CREATE INDEX papers_seq ON papers (seq);
    CREATE TABLE trending (
        day       date NOT NULL,
        source    text NOT NULL,
        paper_pk  bigint NOT NULL REFERENCES papers (pk),
        rank      integer NOT NULL,
        upvotes   integer,
        PRIMARY KEY (day, source, paper_pk)
    );
    CREATE INDEX trending_paper ON trending (paper_pk);
    CREATE TABLE sent_papers (
        destination  text NOT NULL,
        paper_pk     bigint NOT NULL REFERENCES papers (pk),
        sent_at      timestamptz NOT NULL,
        PRIMARY KEY (destination, paper_pk)
    );
    CREATE TABLE day_lists (
        day          date NOT NULL,
        source       text NOT NULL,
        size         integer NOT NULL,
        grew_at      timestamptz NOT NULL,
        fetched_at   timestamptz NOT NULL,
        complete_at  timestamptz,
        PRIMARY KEY (day, source)
    );
    CREATE TABLE channel_digests (
        destination  text PRIMARY KEY,
        enabled      boolean NOT NULL,
        time         text NOT NULL,
        timezone     text NOT NULL,
        weekdays     text NOT NULL,
        size         integer NOT NULL,
        topic        text,
        format       text NOT NULL,
        covers       text NOT NULL,
        updated_at   timestamptz NOT NULL,
        updated_by   text NOT NULL
    );
    CREATE TABLE digest_runs (
        destination  text NOT NULL,
        run_day      date NOT NULL,
        started_at   timestamptz NOT NULL,
        finished_at  timestamptz,
        list_day     date,
        posted       integer NOT NULL DEFAULT 0,
        outcome      text NOT NULL,
        detail       text,
        PRIMARY KEY (destination, run_day)
    );
    CREATE TABLE destinations (
        destination      text PRIMARY KEY,
        stopped_at       timestamptz,
        error            text,
        last_success_at  timestamptz,
        last_error_at    timestamptz
    );
    CREATE TABLE saved_queries (
        key         text PRIMARY KEY,
        query       text NOT NULL,
        created_at  timestamptz NOT NULL
    );
    CREATE TABLE subscriptions (
        id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        owner             text NOT NULL,
        topic             text NOT NULL,
        created_at        timestamptz NOT NULL,
        last_match_at     timestamptz,
        last_match_title  text,
        UNIQUE (owner, topic)
    );
    CREATE TABLE alert_settings (
        owner         text PRIMARY KEY,
        time          text NOT NULL,
        timezone      text NOT NULL,
        paused_until  timestamptz,
        updated_at    timestamptz NOT NULL
    );
    CREATE TABLE pending_matches (
        owner            text NOT NULL,
        paper_pk         bigint NOT NULL REFERENCES papers (pk),
        subscription_id  bigint NOT NULL,
        matched_at       timestamptz NOT NULL,
        PRIMARY KEY (owner, paper_pk)
    );
    CREATE TABLE matched_lists (
        day         date NOT NULL,
        source      text NOT NULL,
        matched_at  timestamptz NOT NULL,
        PRIMARY KEY (day, source)
    );
    CREATE TABLE outbox (
        id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        destination      text NOT NULL,
        reply            text NOT NULL,
        paper_ids        jsonb NOT NULL,
        created_at       timestamptz NOT NULL,
        state            text NOT NULL,
        attempts         integer NOT NULL DEFAULT 0,
        next_attempt_at  timestamptz NOT NULL,
        last_error       text,
        platform_ids     jsonb,
        sent_at          timestamptz,
        run_day          date,  -- the digest or alert run it settles, if any
        handle           text,
        sends            integer NOT NULL DEFAULT 0
    );
    CREATE INDEX outbox_waiting ON outbox (destination, id) WHERE state IN ('pending', 'sending');
    """,
    # 2: the processes sharing the database (heartbeats), and which process sends for what
    # now: a budget or a reply's destination (a claim held until `held_until`).
    """
    CREATE TABLE processes (
        process     text PRIMARY KEY,
        started_at  timestamptz NOT NULL,
        seen_at     timestamptz NOT NULL,
        leader      boolean NOT NULL,
        detail      text NOT NULL DEFAULT ''
    );
    CREATE TABLE outbox_claims (
        key         text PRIMARY KEY,
        owner       text,
        held_until  timestamptz
    );
    """,
    # 3: Slack workspaces that installed the app through OAuth (their bot tokens; none
    # once uninstalled, until their data is forgotten), and the OAuth flow's states.
    """
    CREATE TABLE slack_installations (
        team_id           text PRIMARY KEY,
        bot_token         text,
        bot_id            text NOT NULL,
        bot_user_id       text NOT NULL,
        installed_at      timestamptz NOT NULL,
        enterprise_id     text,
        team_name         text,
        app_id            text,
        scopes            text NOT NULL DEFAULT '',
        installer         text,
        refresh_token     text,
        token_expires_at  timestamptz,
        uninstalled_at    timestamptz
    );
    CREATE TABLE slack_oauth_states (
        state       text PRIMARY KEY,
        expires_at  timestamptz NOT NULL
    );
    """,
    # 4: a channel's votes on its digests' papers (+1 "More like this", -1 "Not for us"):
    # one per user and paper in each channel; the user's key (`slack:T1:@U1`) to change,
    # remove or forget their own.
    """
    CREATE TABLE votes (
        destination  text NOT NULL,
        paper_pk     bigint NOT NULL REFERENCES papers(pk),
        user_key     text NOT NULL,
        value        smallint NOT NULL CHECK (value IN (-1, 1)),
        voted_at     timestamptz NOT NULL,
        PRIMARY KEY (destination, paper_pk, user_key)
    );
    CREATE INDEX votes_by_user ON votes (user_key);
    """,
    # 5: users' reading lists: the papers each saved (the owner is the user's direct
    # messages' key, `slack:T1:@U1`), when, and their tags.
    """
    CREATE TABLE saved_papers (
        owner     text NOT NULL,
        paper_pk  bigint NOT NULL REFERENCES papers (pk),
        saved_at  timestamptz NOT NULL,
        tags      jsonb NOT NULL DEFAULT '[]',
        PRIMARY KEY (owner, paper_pk)
    );
    """,
    # 6: whether a channel's votes re-rank its digest ("taste"), on unless turned off.
    """
    ALTER TABLE channel_digests ADD COLUMN taste boolean NOT NULL DEFAULT true;
    """,
    # 7: where a paper was published (its DOI, its journal reference); the changes an
    # ingest saw to a saved paper (a new version, a journal reference, a DOI), each once;
    # and which of them each saver was told (in the alert that was queued).
    """
    ALTER TABLE papers ADD COLUMN doi text;
    ALTER TABLE papers ADD COLUMN journal_ref text;
    CREATE TABLE paper_changes (
        id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        paper_pk  bigint NOT NULL REFERENCES papers (pk),
        kind      text NOT NULL,
        value     text NOT NULL,
        seen_at   timestamptz NOT NULL,
        UNIQUE (paper_pk, kind, value)
    );
    CREATE TABLE saved_notices (
        owner         text NOT NULL,
        change_id     bigint NOT NULL REFERENCES paper_changes (id),
        delivered_at  timestamptz NOT NULL,
        PRIMARY KEY (owner, change_id)
    );
    CREATE INDEX saved_papers_paper ON saved_papers (paper_pk);
    """,
    # 8: a channel's weekly recap: its weekday (NULL: none), its time (NULL: the digest's)
    # and the channel's name for the chart's title. Its runs are digest runs keyed
    # `<destination>#recap`, on the Monday of the recap's week.
    """
    ALTER TABLE channel_digests ADD COLUMN recap_day text;
    ALTER TABLE channel_digests ADD COLUMN recap_time text;
    ALTER TABLE channel_digests ADD COLUMN recap_name text;
    """,
)

LATEST_VERSION = len(MIGRATIONS)
