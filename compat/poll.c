/* poll: placeholder, being written. */
