// SPDX-License-Identifier: Apache-2.0
// A test-only Jolokia agent: Debian's jolokia-core request handler behind the JDK's HttpServer, serving this JVM's
// MBeans on 127.0.0.1. Usage: java -cp DIR:jolokia-core.jar:json-simple.jar JolokiaServer PORTFILE
// It binds an ephemeral port and writes it to PORTFILE (via a rename, so readers never see a partial file) once it
// serves, then runs until killed (the test starts it under `setpriv --pdeathsig KILL`, so it dies with the test).
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.util.HashMap;
import java.util.Map;

import org.jolokia.backend.BackendManager;
import org.jolokia.config.ConfigKey;
import org.jolokia.config.Configuration;
import org.jolokia.http.HttpRequestHandler;
import org.jolokia.util.LogHandler;
import org.json.simple.JSONAware;

public final class JolokiaServer {
	private static final LogHandler QUIET = new LogHandler() {
		public void debug(String message) {}
		public void info(String message) {}
		public void error(String message, Throwable t) { System.err.println("jolokia: " + message); }
	};

	public static void main(String[] args) throws Exception {
		if (args.length != 1) {
			System.err.println("usage: JolokiaServer PORTFILE");
			System.exit(2);
		}
		Configuration config = new Configuration(ConfigKey.AGENT_ID, "xdc-test-jolokia");
		BackendManager backend = new BackendManager(config, QUIET);
		HttpRequestHandler handler = new HttpRequestHandler(config, backend, QUIET);

		HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
		server.createContext("/jolokia", exchange -> serve(handler, exchange));
		server.start();

		Path portFile = Paths.get(args[0]);
		Path tmp = Paths.get(args[0] + ".tmp");
		Files.write(tmp, String.valueOf(server.getAddress().getPort()).getBytes(StandardCharsets.UTF_8));
		Files.move(tmp, portFile, StandardCopyOption.ATOMIC_MOVE);
		// The server's own (non-daemon) thread keeps the JVM running.
	}

	private static void serve(HttpRequestHandler handler, HttpExchange exchange) throws IOException {
		JSONAware answer;
		try {
			String uri = exchange.getRequestURI().toString();
			String pathInfo = exchange.getRequestURI().getPath().substring("/jolokia".length());
			Map<String, String[]> params = new HashMap<>();
			if ("POST".equals(exchange.getRequestMethod())) {
				try (InputStream in = exchange.getRequestBody()) {
					answer = handler.handlePostRequest(uri, in, "UTF-8", params);
				}
			} else {
				answer = handler.handleGetRequest(uri, pathInfo, params);
			}
		} catch (Throwable t) {
			answer = handler.handleThrowable(t);
		}
		// Jolokia reports errors in the body (status, error, error_type) with HTTP 200, as its servlet does.
		byte[] body = answer.toJSONString().getBytes(StandardCharsets.UTF_8);
		exchange.getResponseHeaders().set("Content-Type", "application/json; charset=utf-8");
		exchange.sendResponseHeaders(200, body.length);
		try (OutputStream out = exchange.getResponseBody()) {
			out.write(body);
		}
	}
}
