/* fetch: placeholder, being written. */
