create schema if not exists meta;
create schema if not exists staging;
create schema if not exists quarantine;
create schema if not exists marts;
