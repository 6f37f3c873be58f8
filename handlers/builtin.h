/* builtin: placeholder, being written. */
