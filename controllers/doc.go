// Package controllers is Beer Locker's HTTP layer: the one routes file
// listing the whole surface, the handlers of the REST API and the browser
// pages, JSON decoding and validation, and the mapping of domain errors to
// RFC 9457 problem responses.
package controllers
