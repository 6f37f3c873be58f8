/* pool: placeholder, being written. */
