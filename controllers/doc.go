// Package controllers is Beer Locker's HTTP surface: the one routes file
// listing every route (API, OAuth endpoints and browser pages), and the
// handlers of the JSON API (users, beers, clients) with their decoding and
// validation. Browser pages are package pages; the OAuth endpoints are
// package oauth; failures are answered through the httperr table.
package controllers
