"""The CLI's longer help texts: what `paperwire --help` and `paperwire run --help` say
below the options (the environment each reads)."""

DESCRIPTION = """\
paperwire brings the day's trending research papers to Slack and Discord.
With no tokens set it runs on the console: try `paperwire demo`, then `paperwire shell`."""

EPILOG = """\
environment (`paperwire run --help` lists them all):
  PAPERWIRE_DB                 database file (default: $XDG_DATA_HOME/paperwire/paperwire.db,
                               i.e. ~/.local/share/paperwire/paperwire.db); the search
                               index lives beside it in paperwire.db.index/
  PAPERWIRE_DATABASE_URL       postgresql://... instead: several processes on one database
  PAPERWIRE_SOURCES            sources `run` ingests on a schedule: hf, arxiv, biorxiv
                               (default hf)
  PAPERWIRE_ARXIV_CATEGORIES   e.g. cs.CL,cs.LG for the arxiv source
  PAPERWIRE_BIORXIV_SERVERS    biorxiv, medrxiv or both for the biorxiv source (default biorxiv)
  PAPERWIRE_DIGEST_SIZE        papers per digest (default 10)
"""


RUN_EPILOG = """\
environment (README: "Configuration", "Run on Slack", "Run on Discord"):
  PAPERWIRE_DB                  database file (default: ~/.local/share/paperwire/paperwire.db)
  PAPERWIRE_DATABASE_URL        postgresql://... instead (README: "Several processes")
  PAPERWIRE_SOURCES             sources ingested on a schedule: hf, arxiv, biorxiv (default
                                hf; empty: none)
  PAPERWIRE_ARXIV_CATEGORIES    e.g. cs.CL,cs.LG: the arXiv announcements to ingest
  PAPERWIRE_BIORXIV_SERVERS     biorxiv, medrxiv or both: what the biorxiv source fetches
  PAPERWIRE_DIGEST_SIZE         papers per digest (default 10)
  PAPERWIRE_SEARCH_PAGE_SIZE    results per search reply (default 5)
  PAPERWIRE_MAX_SUBSCRIPTIONS   topics per user (default 20)
  PAPERWIRE_COMMANDS_PER_MINUTE commands one person may send a minute (default 10; 0: no limit)
  PAPERWIRE_COMMANDS_PER_HOUR   ... and an hour (default 60; 0: no limit)
  PAPERWIRE_LIST_SETTLE_HOURS   a day's list is complete once it stopped growing this long (3)
  PAPERWIRE_LIST_COMPLETE_HOUR  ... or at this UTC hour of the next day (6)
  PAPERWIRE_DIGEST_GRACE_HOURS  a digest missed while down is posted on return within this (6)
  PAPERWIRE_HF_URL              Hugging Face API base (a mirror or a proxy)
  PAPERWIRE_ARXIV_API_URL       arXiv API endpoint
  PAPERWIRE_ARXIV_RSS_URL       arXiv RSS endpoint
  PAPERWIRE_ARXIV_INTERVAL_S    seconds between requests to arXiv (default 3)
  PAPERWIRE_BIORXIV_API_URL     bioRxiv / medRxiv details API base
  PAPERWIRE_LEADER_CHECK_S      processes on one PostgreSQL database: how often each records
                                it is alive and asks for the lead (default 10 s)
  PAPERWIRE_LOG_FORMAT          text (default) or json: one JSON object a line on stderr
Operations (README: "Operations: health, metrics, status page"):
  PAPERWIRE_HTTP_PORT           serves GET /healthz, /readyz, /metrics and /status on this port
                                in every mode (Slack's HTTP mode: on its port, default 3000)
  PAPERWIRE_HTTP_HOST           ... on this address (default 0.0.0.0)
  PAPERWIRE_STATUS_TOKEN        turns /status on: give it as `Authorization: Bearer ...` or
                                ?token=... (unset: /status answers 404)
Slack:
  SLACK_BOT_TOKEN               the bot token (xoxb-...): turns Slack on
  SLACK_SIGNING_SECRET          HTTP mode: checks that requests come from Slack
  SLACK_APP_TOKEN               Socket Mode instead: an app-level token (xapp-...)
  SLACK_CLIENT_ID               instead of SLACK_BOT_TOKEN, with SLACK_CLIENT_SECRET: any
                                workspace installs paperwire (OAuth, /slack/install)
  SLACK_REDIRECT_URI            OAuth: the redirect URL, when the app lists several
  PAPERWIRE_SLACK_UNINSTALL_GRACE_DAYS  a workspace's data after it uninstalls (default 30)
  PAPERWIRE_HTTP_HOST           where HTTP mode listens (default 0.0.0.0)
  PAPERWIRE_HTTP_PORT           ... and on which port (default 3000)
  PAPERWIRE_SLACK_MANAGERS      user ids who may change digests besides admins and owners
  PAPERWIRE_SLACK_RATE          messages a second across the workspace (default 5)
  PAPERWIRE_SLACK_HISTORY_RATE  history reads a minute, to check what a crash left (default 1)
  PAPERWIRE_SLACK_API_URL       another Web API base (GovSlack, a proxy)
Discord:
  DISCORD_BOT_TOKEN             the bot's token: turns Discord on
  DISCORD_WEBHOOK_URL           with no bot token: digests only, to the webhook's channel
  PAPERWIRE_WEBHOOK_DIGEST      webhook mode: when the digest goes (default 09:00 UTC)
  PAPERWIRE_DISCORD_RATE        requests a second (default 50)
  PAPERWIRE_DISCORD_API_URL     another REST base (a proxy)
  PAPERWIRE_DISCORD_GATEWAY_URL another gateway (a proxy)
  PAPERWIRE_DISCORD_SHARDS      sharding: the count of shards in all processes
  PAPERWIRE_DISCORD_SHARD_IDS   ... and this process's, e.g. 0,1 or 2-3 (default all)
With no token set the console is the platform: scheduled digests print to stdout.
"""
