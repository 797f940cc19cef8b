package io.toma.kernel.linux.vm;

import io.toma.kernel.linux.vm.QemuAvailability.Unavailable;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.junit.jupiter.api.extension.TestExecutionExceptionHandler;

/**
 * The JUnit side of {@link RealKernel}: skips when the VM cannot run here, boots one VM per test
 * class on first use, injects it, attaches the kernel log to failures and powers the VM off after
 * the class.
 */
public final class RealKernelExtension
    implements ExecutionCondition, ParameterResolver, TestExecutionExceptionHandler, AfterAllCallback {

  private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(RealKernelExtension.class);
  private static final String VM_KEY = "vm";

  /** The class's VM, or why it could not boot (remembered so one failed boot is not retried per test). */
  private record Boot(Optional<QemuVm> vm, Optional<RuntimeException> failure) {}

  @Override
  public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
    QemuAvailability.Result availability = QemuAvailability.check();
    if (availability instanceof Unavailable unavailable) {
      if (required()) {
        return ConditionEvaluationResult.enabled("the real-kernel VM is required here but unavailable: "
            + unavailable.reason() + " (tests will fail)");
      }
      String message = "real-kernel tests skipped: " + unavailable.reason();
      if (context.getTestMethod().isEmpty()) {
        // Surefire's summary only counts skips; say why on the console, once per class.
        System.err.println("[" + context.getDisplayName() + "] " + message);
      }
      return ConditionEvaluationResult.disabled(message);
    }
    return ConditionEvaluationResult.enabled("qemu and a kernel are present");
  }

  @Override
  public boolean supportsParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
    return parameterContext.getParameter().getType() == QemuVm.class;
  }

  @Override
  public Object resolveParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
    return vmOf(extensionContext);
  }

  @Override
  public void handleTestExecutionException(ExtensionContext context, Throwable throwable) throws Throwable {
    if (throwable instanceof VmScriptFailedException) {
      throw throwable; // its message already ends with the kernel log tail
    }
    bootOf(context).flatMap(Boot::vm).filter(QemuVm::isAlive).ifPresent(vm ->
        throwable.addSuppressed(new KernelLog("kernel log of the test VM (tail):\n" + vm.dmesgTail())));
    throw throwable;
  }

  @Override
  public void afterAll(ExtensionContext context) {
    Boot boot = context.getStore(NAMESPACE).remove(VM_KEY, Boot.class);
    if (boot != null) {
      boot.vm().ifPresent(QemuVm::close);
    }
  }

  private static QemuVm vmOf(ExtensionContext context) {
    ExtensionContext classContext = classContext(context);
    Boot boot = classContext.getStore(NAMESPACE).getOrComputeIfAbsent(VM_KEY, key -> boot(classContext), Boot.class);
    if (boot.failure().isPresent()) {
      throw boot.failure().get();
    }
    return boot.vm().orElseThrow();
  }

  private static Optional<Boot> bootOf(ExtensionContext context) {
    return Optional.ofNullable(classContext(context).getStore(NAMESPACE).get(VM_KEY, Boot.class));
  }

  private static Boot boot(ExtensionContext classContext) {
    RealKernel spec = classContext.getRequiredTestClass().getAnnotation(RealKernel.class);
    QemuVm.Options options = QemuVm.Options.defaults();
    if (spec != null) {
      options = options.withDisks(spec.disks(), spec.diskSizeMb())
          .withCpus(spec.cpus())
          .withExecTimeout(Duration.ofSeconds(spec.execTimeoutSeconds()));
      if (spec.memoryMb() > 0) {
        options = options.withMemoryMb(spec.memoryMb());
      }
    }
    try {
      return new Boot(Optional.of(QemuVm.start(options)), Optional.empty());
    } catch (RuntimeException e) {
      return new Boot(Optional.empty(), Optional.of(e));
    }
  }

  /** The context of the test class (the VM's scope), from a class, method or constructor context. */
  private static ExtensionContext classContext(ExtensionContext context) {
    ExtensionContext c = context;
    while (c.getTestMethod().isPresent() && c.getParent().isPresent()) {
      c = c.getParent().get();
    }
    return c;
  }

  private static boolean required() {
    return "1".equals(System.getenv("TOMA_VM_REQUIRED")) || Boolean.getBoolean("toma.vm.required");
  }

  /** Carries the kernel log into a failure report (as a suppressed exception, no stack trace). */
  static final class KernelLog extends RuntimeException {
    KernelLog(String text) {
      super(text, null, false, false);
    }
  }
}
