package io.toma.systemtest;

/** Where the test cluster's shared journal lives: a PostgreSQL every node can reach. */
public record JournalDatabase(String jdbcUrl, String user, String password) {}
