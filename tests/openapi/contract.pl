#!/usr/bin/perl
# The contract: real answers of a running `framewise serve` validated against
# docs/openapi.yaml by JSON::Validator (Debian's libjson-validator-perl). Every answer's
# status must be one the operation declares and its body must match the declared schema;
# every operation but the WebSocket one (tests/serve/test_events.c) is called at least once.
# Usage: contract.pl SPEC BASE_URL TOKEN CLIP ROOT_OUTSIDE
use strict;
use warnings;
use JSON::Validator;
use Mojo::UserAgent;
use Mojo::JSON qw(decode_json);
use Time::HiRes qw(sleep time);

my ($spec_path, $base, $token, $clip, $outside) = @ARGV;
die "usage: contract.pl SPEC BASE_URL TOKEN CLIP OUTSIDE_PATH\n" unless $outside;

my $spec = JSON::Validator->new->schema($spec_path)->schema;
my @spec_errors = @{$spec->errors};
die join("\n", "$spec_path is not a valid OpenAPI document:", @spec_errors) . "\n" if @spec_errors;

my $ua = Mojo::UserAgent->new(request_timeout => 30, max_redirects => 0);
my %auth = (Authorization => "Bearer $token");
my (%called, $failures, $checked);

# check(OPERATION_PATH, TX): the answer of TX against the operation METHOD OPERATION_PATH
sub check {
  my ($op_path, $tx, $want) = @_;
  my $method = lc $tx->req->method;
  my $res = $tx->res;
  my $status = $res->code // 0;
  my $what = sprintf "%s %s -> %s", uc $method, $tx->req->url->path_query, $status;
  my $ctype = $res->headers->content_type // '';
  $ctype =~ s/;.*//;
  my $body = $res->body;
  my $value = $ctype eq 'application/json' ? eval { decode_json($body) } : $body;
  my @errors;
  push @errors, "expected status $want" if defined $want && $status != $want;
  push @errors, "a JSON content type with a body that is not JSON" if $ctype eq 'application/json'
    && length $body && !defined $value;
  push @errors, $spec->validate_response([$method, $op_path, $status], {
    body => sub { return {accept => $ctype, exists => length($body) > 0, value => $value} },
    header => sub {
      my ($name) = @_;
      my $v = $res->headers->header($name);
      return {exists => defined $v, value => $v};
    },
  });
  # every error answer is {"error": {"code", "message"}}
  if ($status >= 400 && !(ref $value eq 'HASH' && ref $value->{error} eq 'HASH'
      && defined $value->{error}{code} && defined $value->{error}{message})) {
    push @errors, "an error answer without {\"error\": {\"code\", \"message\"}}";
  }
  $called{"$method $op_path"}++;
  $checked++;
  if (@errors) {
    $failures++;
    print "FAIL: $what\n", map({"  $_\n"} @errors), "  body: ", substr($body, 0, 300), "\n";
  } else {
    print "ok: $what\n";
  }
  return $value;
}

# the service
check('/healthz', $ua->get("$base/healthz"), 200);
check('/session', $ua->get("$base/session"), 200);
check('/session', $ua->post("$base/session" => json => {token => 'wrong'}), 401);
check('/session', $ua->post("$base/session" => json => {}), 400);
check('/session', $ua->post("$base/session" => json => {token => $token}), 204);
check('/session', $ua->delete("$base/session"));
check('/metrics', $ua->get("$base/metrics" => {%auth}), 200);
check('/metrics', $ua->get("$base/metrics"), 401);
check('/v1/presets', $ua->get("$base/v1/presets" => {%auth}), 200);

# a job by path, its idempotent twin, its state until it ends, its files
my $job = check('/v1/jobs', $ua->post("$base/v1/jobs" => {%auth} =>
  json => {path => $clip, idempotency_key => 'contract-1', options => {'max-gap' => 5}}), 202);
my $id = ref $job eq 'HASH' ? $job->{id} : die "FAIL: no job was created\n";
check('/v1/jobs', $ua->post("$base/v1/jobs" => {%auth} =>
  json => {path => $clip, idempotency_key => 'contract-1'}), 200);
my $deadline = time + 120;
my $state = '';
while (time < $deadline) {
  my $tx = $ua->get("$base/v1/jobs/$id" => {%auth});
  my $j = decode_json($tx->res->body);
  $state = $j->{state};
  last if $state =~ /^(done|failed|cancelled)$/;
  sleep 0.05;    # polling the state: the wait ends on the condition, not on the time
}
die "FAIL: job $id did not end within 120 s (state $state)\n" unless $state eq 'done';
check('/v1/jobs/{id}', $ua->get("$base/v1/jobs/$id" => {%auth}), 200);
check('/v1/jobs/{id}/report', $ua->get("$base/v1/jobs/$id/report" => {%auth}), 200);
# a SQLite queue's node keeps no upload for the workers of other machines
check('/v1/jobs/{id}/input', $ua->get("$base/v1/jobs/$id/input"), 404);
for my $name (qw(report.json report.jsonl captions.vtt captions.srt report.md report.html)) {
  check('/v1/jobs/{id}/files/{name}', $ua->get("$base/v1/jobs/$id/files/$name" => {%auth}), 200);
}
my $report = decode_json($ua->get("$base/v1/jobs/$id/report" => {%auth})->res->body);
my ($kf) = map { $_->{file} // () } @{$report->{keyframes} // []};
die "FAIL: the report names no keyframe image\n" unless $kf;
$kf =~ s{.*/}{};
check('/v1/jobs/{id}/files/{name}', $ua->get("$base/v1/jobs/$id/files/$kf" => {%auth}), 200);
check('/v1/jobs/{id}/files/{name}', $ua->get("$base/v1/jobs/$id/files/kf_999999.jpg" => {%auth}),
  404);
check('/v1/jobs', $ua->get("$base/v1/jobs?state=done&limit=1" => {%auth}), 200);
check('/v1/jobs', $ua->get("$base/v1/jobs?state=bogus" => {%auth}), 400);
check('/v1/jobs', $ua->get("$base/v1/jobs"), 401);
check('/v1/jobs/{id}', $ua->delete("$base/v1/jobs/$id" => {%auth}), 200);
check('/v1/jobs/{id}', $ua->get("$base/v1/jobs/999999" => {%auth}), 404);
check('/v1/jobs/{id}/report', $ua->get("$base/v1/jobs/999999/report" => {%auth}), 404);

# an upload, then cancelled (queued or running: both are declared answers)
open my $fh, '<:raw', $clip or die "$clip: $!\n";
my $bytes = do { local $/; <$fh> };
close $fh;
my $up = check('/v1/jobs', $ua->post("$base/v1/jobs" => {%auth} => form => {
  file => {content => $bytes, filename => 'clip.mp4', 'Content-Type' => 'video/mp4'},
  options => '{"max-gap": 5}'}), 202);
check('/v1/jobs/{id}', $ua->delete("$base/v1/jobs/$up->{id}" => {%auth})) if ref $up eq 'HASH';

# refusals
check('/v1/jobs', $ua->post("$base/v1/jobs" => {%auth} => json => {path => $outside}), 403);
check('/v1/jobs', $ua->post("$base/v1/jobs" => {%auth} => json => {url => 'http://127.0.0.1:1/x.mp4'}),
  403);
check('/v1/jobs', $ua->post("$base/v1/jobs" => {%auth, 'Content-Type' => 'application/json'} =>
  '{"path": '), 400);
check('/v1/jobs', $ua->post("$base/v1/jobs" => {%auth} =>
  json => {path => $clip, options => {'max-gap' => -1}}), 400);
check('/v1/jobs', $ua->post("$base/v1/jobs" => {%auth, 'Content-Type' => 'text/plain'} => 'x'), 415);

# every operation (but the WebSocket) was called
my @missed;
for my $route (@{$spec->routes->to_array}) {
  next if $route->{path} eq '/v1/jobs/{id}/events';
  push @missed, uc($route->{method}) . " $route->{path}" unless $called{"$route->{method} $route->{path}"};
}
if (@missed) { $failures++; print "FAIL: never called: @missed\n"; }
print $failures ? "FAIL: $failures of $checked answers\n" : "ok: $checked answers match $spec_path\n";
exit($failures ? 1 : 0);
