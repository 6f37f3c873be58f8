/* job: placeholder, being written. */
