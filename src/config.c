/* config: placeholder, being written. */
