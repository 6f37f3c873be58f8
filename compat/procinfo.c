/* procinfo: placeholder, being written. */
