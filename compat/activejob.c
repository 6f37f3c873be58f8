/* activejob: placeholder, being written. */
