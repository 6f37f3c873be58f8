/* backtrace: placeholder, being written. */
