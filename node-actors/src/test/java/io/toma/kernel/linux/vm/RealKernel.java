package io.toma.kernel.linux.vm;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Marks a test class that runs on a real Linux kernel. The class gets one {@link QemuVm} for all
 * its tests (declare a {@code QemuVm} parameter on a test method, a {@code @BeforeAll} method or
 * the constructor), booted on first use and powered off after the class. When this machine cannot
 * run the VM the class is skipped with the reason; with {@code TOMA_VM_REQUIRED=1} (or
 * {@code -Dtoma.vm.required=true}, for CI) it fails instead. A failing test gets the kernel log
 * tail attached.
 *
 * <pre>{@code
 * @RealKernel(disks = 4, diskSizeMb = 256)
 * class FailoverOnRealKernelTest {
 *   @Test
 *   void standbyTakesOver(QemuVm vm) { vm.run("..."); }
 * }
 * }</pre>
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Tag("real-kernel")
@ExtendWith(RealKernelExtension.class)
public @interface RealKernel {

  /** How many null_blk disks ({@code /dev/nullb0..}). */
  int disks() default 2;

  /** Size of each disk in MiB (memory-backed: guest RAM grows with it). */
  int diskSizeMb() default 128;

  /** Guest RAM in MiB; 0 means enough for the disks ({@link QemuVm.Options#memoryMb()}). */
  int memoryMb() default 0;

  int cpus() default 2;

  /** Longest a single script may run, in seconds. */
  int execTimeoutSeconds() default 120;
}
