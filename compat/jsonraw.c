/* jsonraw: placeholder, being written. */
