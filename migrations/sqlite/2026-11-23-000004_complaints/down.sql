DROP TABLE complaints;
