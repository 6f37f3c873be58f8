/* rconn: placeholder, being written. */
