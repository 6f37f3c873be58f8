/* redisurl: placeholder, being written. */
