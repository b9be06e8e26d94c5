#include <dusty/http/router.hpp>

#include <gtest/gtest.h>

#include <array>
#include <functional>
#include <memory>
#include <string>

namespace dusty::http {
namespace {

using params_array = std::array<route_param, default_max_params>;

// The value routed to, or -404 / -405 / -500 for the errors.
int route(const router<int>& r, method m, std::string_view path) {
  params_array params;
  auto found = r.find(m, path, params);
  if (!found) {
    return -static_cast<int>(to_code(status_for(found.error())));
  }
  return *found->value;
}

int get(const router<int>& r, std::string_view path) { return route(r, method::get, path); }

TEST(router, static_routes) {
  router<int> r;
  r.get("/", 1);
  r.get("/hello/world", 2);
  r.get("/over/9000/", 3);
  r.get("/hello", 4);

  EXPECT_EQ(get(r, "/"), 1);
  EXPECT_EQ(get(r, "/hello/world"), 2);
  EXPECT_EQ(get(r, "/hello/world/"), 2);
  EXPECT_EQ(get(r, "/over/9000"), 3);
  EXPECT_EQ(get(r, "/over/9000/"), 3);
  EXPECT_EQ(get(r, "/hello"), 4);
  EXPECT_EQ(get(r, "/hello/"), 4);
  EXPECT_EQ(get(r, "/Hello"), -404);  // case-sensitive
  EXPECT_EQ(get(r, "/hello/world/x"), -404);
  EXPECT_EQ(get(r, "/over/9000!"), -404);
  EXPECT_EQ(get(r, "/over/ 9000"), -404);
  EXPECT_EQ(get(r, "/over"), -404);
}

TEST(router, paths_that_do_not_start_with_a_slash_match_nothing) {
  router<int> r;
  r.all("/*", 1);
  EXPECT_EQ(route(r, method::options, "*"), -404);
  EXPECT_EQ(get(r, ""), -404);
  EXPECT_EQ(get(r, "hello"), -404);
  EXPECT_EQ(get(r, "/anything"), 1);
}

TEST(router, params) {
  router<int> r;
  r.get("/:p1", 1);
  r.get("/users/:id", 2);
  r.get("/users/:id/fav", 3);
  r.get("/users/:id/fav/:item", 4);
  r.delete_("/users/:uid", 5);  // same node, another method, another name

  params_array params;
  auto m = r.find(method::get, "/users/u1/fav/blue", params);
  ASSERT_TRUE(m);
  EXPECT_EQ(*m->value, 4);
  ASSERT_EQ(m->params.size(), 2u);
  EXPECT_EQ(m->params[0].name, "id");
  EXPECT_EQ(m->params[0].value, "u1");
  EXPECT_EQ(m->params[1].name, "item");
  EXPECT_EQ(m->params[1].value, "blue");
  EXPECT_EQ(m->param("item"), "blue");
  EXPECT_FALSE(m->param("other"));
  EXPECT_EQ(m->pattern, "/users/:id/fav/:item");

  m = r.find(method::get, "/info", params);
  ASSERT_TRUE(m);
  EXPECT_EQ(*m->value, 1);
  EXPECT_EQ(m->param("p1"), "info");

  m = r.find(method::delete_, "/users/7", params);
  ASSERT_TRUE(m);
  EXPECT_EQ(*m->value, 5);
  EXPECT_EQ(m->param("uid"), "7");
  EXPECT_FALSE(m->param("id"));

  EXPECT_EQ(get(r, "/users/9/fav"), 3);
  EXPECT_EQ(get(r, "/users/9/like"), -404);
  EXPECT_EQ(get(r, "/users/u1/fav/blue/x"), -404);
}

TEST(router, param_values_are_raw_views_of_the_path) {
  router<int> r;
  r.get("/files/:name", 1);
  params_array params;
  std::string path = "/files/a%2Fb%20c";
  auto m = r.find(method::get, path, params);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->param("name"), "a%2Fb%20c");
  EXPECT_EQ(m->params[0].value.data(), path.data() + 7);
}

TEST(router, params_and_globs_never_match_empty_segments) {
  router<int> r;
  r.get("/a/:x/b", 1);
  r.get("/c/*/d", 2);
  r.get("/e/*", 3);
  EXPECT_EQ(get(r, "/a//b"), -404);
  EXPECT_EQ(get(r, "/c//d"), -404);
  EXPECT_EQ(get(r, "//"), -404);

  params_array params;
  auto m = r.find(method::get, "/e//x", params);
  ASSERT_TRUE(m);
  EXPECT_EQ(*m->value, 3);
  EXPECT_EQ(m->rest, "/x");
}

TEST(router, one_segment_glob) {
  router<int> r;
  r.get("/api/*/debug", 1);
  r.get("/api/*/", 2);  // "*/" at the end stays a one-segment glob
  EXPECT_EQ(get(r, "/api/v1/debug"), 1);
  EXPECT_EQ(get(r, "/api/anything/debug/"), 1);
  EXPECT_EQ(get(r, "/api/v1/v2/debug"), -404);
  EXPECT_EQ(get(r, "/api/v1"), 2);
  EXPECT_EQ(get(r, "/api/v1/"), 2);
  EXPECT_EQ(get(r, "/api"), -404);
  EXPECT_EQ(get(r, "/api/v1/x"), -404);
}

TEST(router, suffix_glob) {
  router<int> r;
  r.get("/*", 1);
  r.get("/users/*", 2);
  r.get("/users/*/test", 3);
  r.get("/users/other/test", 4);

  for (auto path : {"/", "/anything", "/this/could/be/anything"}) {
    EXPECT_EQ(get(r, path), 1) << path;
  }
  for (auto path : {"/users", "/users/", "/users/hello", "/users/could/be/anything"}) {
    EXPECT_EQ(get(r, path), 2) << path;
  }
  EXPECT_EQ(get(r, "/users/hello/test"), 3);
  EXPECT_EQ(get(r, "/users/x/test"), 3);
  EXPECT_EQ(get(r, "/users/other/test"), 4);

  params_array params;
  auto m = r.find(method::get, "/users/a/b/c", params);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->rest, "a/b/c");
  m = r.find(method::get, "/users/a/b/", params);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->rest, "a/b");
  m = r.find(method::get, "/users", params);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->rest, "");
}

TEST(router, suffix_glob_after_a_param) {
  router<int> r;
  r.get("/repo/:name/*", 1);
  params_array params;
  auto m = r.find(method::get, "/repo/dusty/src/http/router.hpp", params);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->param("name"), "dusty");
  EXPECT_EQ(m->rest, "src/http/router.hpp");
}

TEST(router, most_specific_wins) {
  router<int> r;
  r.get("/a/b", 1);
  r.get("/a/:x", 2);
  r.get("/a/*/", 3);
  r.get("/a/*", 4);
  r.get("/a", 5);
  EXPECT_EQ(get(r, "/a/b"), 1);    // static > param
  EXPECT_EQ(get(r, "/a/c"), 2);    // param > one-segment glob
  EXPECT_EQ(get(r, "/a/c/d"), 4);  // only the suffix glob takes two segments
  EXPECT_EQ(get(r, "/a"), 5);      // an exact route beats the suffix glob at the same node

  router<int> g;
  g.get("/a/*/", 1);
  g.get("/a/*", 2);
  EXPECT_EQ(get(g, "/a/c"), 1);  // one-segment glob > suffix glob
  EXPECT_EQ(get(g, "/a"), 2);
}

TEST(router, deeper_suffix_glob_beats_shallower) {
  router<int> r;
  r.get("/*", 1);
  r.get("/info/*", 2);
  EXPECT_EQ(get(r, "/info/debug/all"), 2);
  EXPECT_EQ(get(r, "/over/9000"), 1);
}

TEST(router, backtracks_out_of_dead_ends) {
  router<int> r;
  r.get("/:any/users", 1);
  r.get("/hello/users/test", 2);
  params_array params;
  auto m = r.find(method::get, "/hello/users", params);
  ASSERT_TRUE(m);
  EXPECT_EQ(*m->value, 1);
  EXPECT_EQ(m->param("any"), "hello");
  EXPECT_EQ(get(r, "/hello/users/test"), 2);
  EXPECT_EQ(get(r, "/x/users"), 1);

  router<int> s;
  s.get("/hello/:x/a", 1);
  s.get("/:y/b/b", 2);
  m = s.find(method::get, "/hello/b/b", params);
  ASSERT_TRUE(m);
  EXPECT_EQ(*m->value, 2);
  ASSERT_EQ(m->params.size(), 1u);
  EXPECT_EQ(m->param("y"), "hello");  // the abandoned ":x" capture is gone
  EXPECT_EQ(get(s, "/hello/b/a"), 1);
}

TEST(router, backtracks_through_globs) {
  router<int> r;
  r.get("/a/b/c", 1);
  r.get("/a/*/d", 2);
  r.get("/*", 3);
  EXPECT_EQ(get(r, "/a/b/d"), 2);
  EXPECT_EQ(get(r, "/a/b/e"), 3);
  EXPECT_EQ(get(r, "/a/b"), 3);
}

TEST(router, methods) {
  router<int> r;
  r.get("/m", 1);
  r.head("/m", 2);
  r.post("/m", 3);
  r.put("/m", 4);
  r.patch("/m", 5);
  r.delete_("/m", 6);
  r.options("/m", 7);
  r.add(method::trace, "/m", 8);
  r.add(method::connect, "/m", 9);
  r.all("/all", 10);
  r.get("/all", 11);  // a route for the method beats `all` at the same pattern

  const method methods[] = {method::get,     method::head,    method::post,  method::put,    method::patch,
                            method::delete_, method::options, method::trace, method::connect};
  for (int i = 0; i < 9; ++i) {
    EXPECT_EQ(route(r, methods[i], "/m"), i + 1);
  }
  for (auto m : methods) {
    EXPECT_EQ(route(r, m, "/all"), m == method::get ? 11 : 10);
  }
  EXPECT_EQ(route(r, method::other, "/all"), 10);
  EXPECT_EQ(route(r, method::other, "/m"), -405);
  EXPECT_EQ(r.size(), 11u);
  EXPECT_THROW(r.add(method::other, "/x", 0), std::invalid_argument);
}

TEST(router, head_falls_back_to_get) {
  router<int> r;
  r.get("/g", 1);
  r.get("/both", 2);
  r.head("/both", 3);
  r.get("/all", 4);
  r.all("/all", 5);
  EXPECT_EQ(route(r, method::head, "/g"), 1);
  EXPECT_EQ(route(r, method::head, "/both"), 3);
  EXPECT_EQ(route(r, method::head, "/all"), 5);  // `all` is a HEAD route
  EXPECT_TRUE(r.allowed_methods("/g").contains(method::head));

  router<int> strict{router_config{.head_uses_get = false}};
  strict.get("/g", 1);
  EXPECT_EQ(route(strict, method::head, "/g"), -405);
  EXPECT_FALSE(strict.allowed_methods("/g").contains(method::head));
}

TEST(router, method_matching_backtracks_per_method) {
  router<int> r;
  r.get("/users/:id", 1);
  r.post("/users/new", 2);
  EXPECT_EQ(get(r, "/users/new"), 1);  // no GET /users/new: the param route takes it
  EXPECT_EQ(route(r, method::post, "/users/new"), 2);
  EXPECT_EQ(route(r, method::post, "/users/5"), -405);
}

TEST(router, not_found_versus_method_not_allowed) {
  router<int> r;
  r.get("/items/:id", 1);
  r.delete_("/items/:id", 2);
  r.post("/items", 3);

  params_array params;
  auto miss = r.find(method::put, "/items/4", params);
  ASSERT_FALSE(miss);
  EXPECT_EQ(miss.error(), errc::method_not_allowed);
  EXPECT_EQ(r.allowed_methods("/items/4").to_string(), "GET, HEAD, DELETE");
  EXPECT_EQ(r.allowed_methods("/items").to_string(), "POST");

  miss = r.find(method::get, "/nothing", params);
  ASSERT_FALSE(miss);
  EXPECT_EQ(miss.error(), errc::not_found);
  EXPECT_TRUE(r.allowed_methods("/nothing").empty());
}

TEST(router, max_params) {
  router<int> r;
  r.get("/:a/:b/:c", 1);
  std::array<route_param, 2> small;
  auto m = r.find(method::get, "/x/y/z", small);
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error(), errc::too_many_params);
  EXPECT_EQ(status_for(m.error()), status::internal_server_error);

  std::array<route_param, 3> exact;
  m = r.find(method::get, "/x/y/z", exact);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->param("c"), "z");

  // A dead-end branch deeper than the array does not fail a shallower match.
  router<int> b;
  b.get("/:a/:b/:c/d", 1);
  b.get("/*/*/*", 2);
  std::array<route_param, 1> one;
  auto ok = b.find(method::get, "/x/y/z", one);
  ASSERT_TRUE(ok);
  EXPECT_EQ(*ok->value, 2);
  EXPECT_EQ(ok->params.size(), 0u);

  router<int> limited{router_config{.max_params = 2}};
  limited.get("/:a/:b", 1);
  EXPECT_THROW(limited.get("/:a/:b/:c", 2), std::invalid_argument);
  EXPECT_EQ(limited.size(), 1u);

  std::span<route_param> none;
  router<int> plain;
  plain.get("/static", 1);
  EXPECT_TRUE(plain.find(method::get, "/static", none));
}

TEST(router, bad_patterns_are_rejected) {
  router<int> r;
  EXPECT_THROW(r.get("", 0), std::invalid_argument);
  EXPECT_THROW(r.get("no-slash", 0), std::invalid_argument);
  EXPECT_THROW(r.get("/a//b", 0), std::invalid_argument);
  EXPECT_THROW(r.get("//", 0), std::invalid_argument);
  EXPECT_THROW(r.get("/a//", 0), std::invalid_argument);
  EXPECT_THROW(r.get("/:", 0), std::invalid_argument);
  EXPECT_THROW(r.get("/:a/:a", 0), std::invalid_argument);
  EXPECT_THROW(r.get("/*x", 0), std::invalid_argument);
  EXPECT_THROW(r.get("/**", 0), std::invalid_argument);
  EXPECT_EQ(r.size(), 0u);

  r.get("/users/:id", 1);
  EXPECT_THROW(r.get("/users/:name", 2), std::invalid_argument);
  EXPECT_THROW(r.get("/users/:id/", 2), std::invalid_argument);
  r.post("/users/:name", 3);  // another method is fine
  r.all("/users/:id", 4);     // and so is `all`
  EXPECT_THROW(r.all("/users/:x", 5), std::invalid_argument);
  EXPECT_EQ(r.size(), 3u);
  EXPECT_EQ(get(r, "/users/1"), 1);

  r.get("/a*b", 6);  // '*' inside a segment is a literal
  EXPECT_EQ(get(r, "/a*b"), 6);
}

TEST(router, groups) {
  router<int> r;
  auto admin = r.group("/admin");
  admin.get("/users", 1);
  admin.delete_("/users/:id", 2);
  admin.get("", 3);
  auto v1 = r.group("/api/").group("v1/");
  v1.get("/items", 4);
  v1.all("/*", 5);
  auto root = r.group("");
  root.get("/plain", 6);

  EXPECT_EQ(admin.prefix(), "/admin");
  EXPECT_EQ(v1.prefix(), "/api/v1/");
  EXPECT_EQ(&admin.owner(), &r);
  EXPECT_EQ(get(r, "/admin/users"), 1);
  EXPECT_EQ(route(r, method::delete_, "/admin/users/3"), 2);
  EXPECT_EQ(get(r, "/admin"), 3);
  EXPECT_EQ(get(r, "/api/v1/items"), 4);
  EXPECT_EQ(route(r, method::post, "/api/v1/anything/else"), 5);
  EXPECT_EQ(get(r, "/plain"), 6);
  EXPECT_EQ(get(r, "/users"), -404);
}

TEST(router, join_pattern) {
  EXPECT_EQ(detail::join_pattern("", ""), "/");
  EXPECT_EQ(detail::join_pattern("", "/x"), "/x");
  EXPECT_EQ(detail::join_pattern("/a", "/x"), "/a/x");
  EXPECT_EQ(detail::join_pattern("/a/", "/x"), "/a/x");
  EXPECT_EQ(detail::join_pattern("a", "x"), "/a/x");
  EXPECT_EQ(detail::join_pattern("/a", ""), "/a/");
}

TEST(router, stores_move_only_and_callable_values) {
  router<std::unique_ptr<int>> owned;
  owned.get("/x", std::make_unique<int>(7));
  params_array params;
  auto m = owned.find(method::get, "/x", params);
  ASSERT_TRUE(m);
  EXPECT_EQ(**m->value, 7);

  router<std::function<int(int)>> fns;
  fns.get("/double", [](int x) { return 2 * x; });
  auto f = fns.find(method::get, "/double", params);
  ASSERT_TRUE(f);
  EXPECT_EQ((*f->value)(21), 42);
}

TEST(router, values_and_names_stay_put_while_routes_are_added) {
  router<int> r;
  r.get("/first/:name", 1);
  params_array params;
  auto m = r.find(method::get, "/first/x", params);
  ASSERT_TRUE(m);
  const int* value = m->value;
  const char* name = m->params[0].name.data();
  for (int i = 0; i < 1000; ++i) {
    r.get("/r" + std::to_string(i) + "/:p" + std::to_string(i), i);
  }
  auto again = r.find(method::get, "/first/x", params);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->value, value);
  EXPECT_EQ(again->params[0].name.data(), name);
  EXPECT_EQ(get(r, "/r999/z"), 999);
}

TEST(router, many_routes) {
  router<int> r;
  for (int i = 0; i < 1000; ++i) {
    auto n = std::to_string(i);
    r.get("/api/v" + std::to_string(i % 5) + "/res" + n + "/:id", i);
    r.post("/api/v" + std::to_string(i % 5) + "/res" + n, 10000 + i);
  }
  for (int i = 0; i < 1000; i += 37) {
    auto n = std::to_string(i);
    EXPECT_EQ(get(r, "/api/v" + std::to_string(i % 5) + "/res" + n + "/abc"), i);
    EXPECT_EQ(route(r, method::post, "/api/v" + std::to_string(i % 5) + "/res" + n), 10000 + i);
    EXPECT_EQ(get(r, "/api/v" + std::to_string(i % 5) + "/res" + n), -405);
  }
  EXPECT_EQ(r.size(), 2000u);
}

}  // namespace
}  // namespace dusty::http
