/* outcome: placeholder, being written. */
