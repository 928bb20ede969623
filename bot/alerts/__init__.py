"""Topic alerts: a user's topics, matching them against new papers, and the daily direct
message with the matches."""
