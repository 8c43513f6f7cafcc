-- The SMS gateway's own database (phone-number state never shares a database with the read
-- models). Runs once, when the postgres volume is first initialised.
CREATE DATABASE kaiku_sms;
