/* retry: placeholder, being written. */
