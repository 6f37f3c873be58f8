/* poller: placeholder, being written. */
