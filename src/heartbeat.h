/* heartbeat: placeholder, being written. */
