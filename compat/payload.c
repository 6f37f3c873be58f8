/* payload: placeholder, being written. */
