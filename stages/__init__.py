"""One thin entry module per DVC stage: read params, call the srtwins library, write outputs."""
