-- wrk script: a valid create-project request for the bundled mittwald API.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["x-access-token"] = "mock-token"  -- the fixture's seeded credential
wrk.body = '{"description":"bench project"}'
