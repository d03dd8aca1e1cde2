package io.peernode.node.sync;

import ch.qos.logback.classic.BasicConfigurator;
import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.core.AppenderBase;
import ch.qos.logback.core.spi.ContextAwareBase;
import org.slf4j.Logger;

/**
 * Logging of the sync CLI: warnings and errors to stderr, one line each, set up in code. Akka
 * Typed binds slf4j when its actor system starts, and logback's XML configuration (Joran, a SAX
 * parser: some 350 classes) was a quarter of a second of the CLI's start. logback calls a
 * {@link Configurator} found through the service loader only when no configuration file is given
 * or found; the node's own start names {@code peer-logback.xml}, so this one serves the CLI (and
 * anyone else without a configuration gets logback's default, as before).
 */
public final class CliLogConfigurator extends ContextAwareBase implements Configurator {

  private static volatile boolean cli;

  /** The process is the sync CLI: configure it quietly. Call before anything logs. */
  public static void forCli() {
    cli = true;
  }

  @Override
  public void configure(LoggerContext context) {
    if (!cli) {
      BasicConfigurator basic = new BasicConfigurator();
      basic.setContext(context);
      basic.configure(context);
      return;
    }
    AppenderBase<ILoggingEvent> stderr = new AppenderBase<>() {
      @Override
      protected void append(ILoggingEvent e) {
        IThrowableProxy t = e.getThrowableProxy();
        System.err.println("peer-node sync: " + e.getLevel() + " " + e.getLoggerName() + " - "
            + e.getFormattedMessage() + (t == null ? "" : " (" + t.getClassName() + ": " + t.getMessage() + ")"));
      }
    };
    stderr.setContext(context);
    stderr.setName("stderr");
    stderr.start();
    ch.qos.logback.classic.Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
    root.setLevel(Level.WARN);
    root.addAppender(stderr);
  }
}
